/**
 * The models the media endpoints (moderations, images, audio) are tested with, priced as in
 * `lib/config/project.ts`, to deep-merge into a harness config: `{ models: MEDIA_MODELS }`.
 */
export const MEDIA_MODELS = {
  'omni-moderation-latest': { inputUsdPer1M: 0, outputUsdPer1M: 0 },
  'text-moderation-latest': { inputUsdPer1M: 0, outputUsdPer1M: 0 },
} as const;
