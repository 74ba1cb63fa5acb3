import type { ModelPrice } from '../../runtime/gateway-config';
/** Application name: the `Application` tag, resource name prefixes and the budget names. */
export const APPLICATION = 'openai-blueprint';

/**
 * Where on-call opens the runbook; every alarm description links to a section of it.
 * Forkers: point this at your copy of docs/runbook.md.
 */
export const RUNBOOK_URL =
  'https://github.com/your-org/openai-production-blueprint/blob/main/docs/runbook.md';

/**
 * Client keys in the example configs. They are public (docs/deploying.md names them), so the CDK app
 * warns when a stage still accepts one: replace the client's keySha256 before deploying.
 */
export const PLACEHOLDER_CLIENT_KEYS = {
  staging: 'example-client-key-staging',
  production: 'example-client-key-production',
} as const;

/**
 * OpenAI's list prices in USD per million tokens, one place for every stage: a price is a fact about the
 * model, not a stage's choice, so a price change is one edit. Check https://openai.com/api/pricing when
 * you add a model; a stage may only allow models that have a price here (validation says which is missing).
 */
export const OPENAI_PRICES = {
  // imageTokens: the most one image bills (high detail, 8 tiles): 2,833 + 8 x 5,667 on mini, 85 + 8 x 170 on 4o.
  'gpt-4o-mini': {
    inputUsdPer1M: 0.15,
    outputUsdPer1M: 0.6,
    cachedInputUsdPer1M: 0.075,
    imageTokens: 48_169,
  },
  'gpt-4o': { inputUsdPer1M: 2.5, outputUsdPer1M: 10, cachedInputUsdPer1M: 1.25, imageTokens: 1_445 },
  'text-embedding-3-small': { inputUsdPer1M: 0.02, outputUsdPer1M: 0 },
} as const satisfies Record<string, ModelPrice>;

/**
 * OpenAI's list prices of the media models (moderations, images, audio), kept apart from the text
 * models above. Looked up on https://platform.openai.com/docs/pricing in December 2026 (the figures
 * OpenAI has published since the models' launch). Moderation is free: its models are priced 0 so a
 * stage can allow them per client like any other model.
 */
export const OPENAI_MEDIA_PRICES = {
  'omni-moderation-latest': { inputUsdPer1M: 0, outputUsdPer1M: 0 },
  'text-moderation-latest': { inputUsdPer1M: 0, outputUsdPer1M: 0 },
} as const satisfies Record<string, ModelPrice>;
