import type { StageConfig } from './types';
import { productionConfig } from './production';
import { stagingConfig } from './staging';

/**
 * Every stage of the app: `bin/app.ts` synthesizes these and `npm run clients` edits their client
 * lists. A new stage is added here (docs/deploying.md); the pipeline (`addPipeline` in lib/apps.ts)
 * deploys staging, then production, by name.
 */
export const STAGE_CONFIGS: readonly StageConfig[] = [stagingConfig, productionConfig];
