export * from './types';
export * from './validate';
export * from './project';
export { stagingConfig } from './staging';
export { productionConfig } from './production';
