export * from './types';
export * from './validate';
export * from './project';
export { stagingConfig } from './staging';
export { productionConfig } from './production';
export { STAGE_CONFIGS } from './stages';
export { baseConfig, stageFromBase, type StageBase, type StageDelta } from './base';
export { deepMerge, type DeepPartial } from './merge';
