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
 * OpenAI's rule for its long-context models (the gpt-5.4 line on): a request of more than 272K input
 * tokens bills input, cached input and cache writes at 2x and output at 1.5x, for the whole request.
 * Source: https://developers.openai.com/api/docs/models/gpt-6.2-sol (read 2026-12-02).
 */
const LONG_CONTEXT = { aboveInputTokens: 272_000, inputFactor: 2, outputFactor: 1.5 } as const;

/**
 * OpenAI's list prices in USD per million tokens (Standard processing), one place for every stage: a
 * price is a fact about the model, not a stage's choice, so a price change is one edit. Check
 * https://developers.openai.com/api/docs/pricing when you add a model; a stage may only allow models
 * that have a price here (validation says which is missing). Every figure below was read on 2026-12-02
 * from the page named beside it (`models/<id>` is https://developers.openai.com/api/docs/models/<id>).
 *
 * - `cacheWriteUsdPer1M`: OpenAI bills prompt-cache writes from the GPT-5.6 family on, at 1.25x input
 *   for the 30-minute retention (https://developers.openai.com/api/docs/guides/prompt-caching); older
 *   models write for free and have none. A call is reserved as if its whole prompt were written. The
 *   12-hour retention (2x the 30-minute write) is refused (`prompt_cache_options.ttl` other than `30m`).
 * - `serviceTierFactors`: priority ("Fast mode") and flex as OpenAI prices them per model (priority
 *   from https://openai.com/api-priority-processing/ for the gpt-5 and gpt-4.1 lines, 2x on the gpt-6
 *   model pages; flex 0.5x, OpenAI's Flex being priced at the Batch rates, half of Standard, on the
 *   gpt-6 model pages and on the gpt-5 line and o3/o4-mini). A model without one is reserved and
 *   metered at PRIORITY_PRICE_FACTOR for priority and at standard for flex, never below its bill.
 * - Reasoning models (gpt-5.x, gpt-6.x, o3, o4-mini) bill reasoning tokens as output: they are part of
 *   `max_output_tokens` / `max_completion_tokens`, which the gateway caps, so the reservation holds.
 */
export const OPENAI_PRICES = {
  // models/gpt-6.2-astra and the models index: $8 / $40; cached input 60% below gpt-6-astra's $1.
  'gpt-6.2-astra': {
    inputUsdPer1M: 8,
    cachedInputUsdPer1M: 0.4,
    cacheWriteUsdPer1M: 10,
    outputUsdPer1M: 40,
    longContext: LONG_CONTEXT,
    serviceTierFactors: { priority: 2 },
  },
  // models/gpt-6.2-sol: Batch 50%, Fast mode 2x (no Flex listed).
  'gpt-6.2-sol': {
    inputUsdPer1M: 2,
    cachedInputUsdPer1M: 0.1,
    cacheWriteUsdPer1M: 2.5,
    outputUsdPer1M: 10,
    longContext: LONG_CONTEXT,
    serviceTierFactors: { priority: 2 },
  },
  // models/gpt-6.1-sol: gpt-6-sol's rates with cached input halved; Flex 0.5x, Fast 2x.
  'gpt-6.1-sol': {
    inputUsdPer1M: 2,
    cachedInputUsdPer1M: 0.1,
    cacheWriteUsdPer1M: 2.5,
    outputUsdPer1M: 10,
    longContext: LONG_CONTEXT,
    serviceTierFactors: { flex: 0.5, priority: 2 },
  },
  // models/gpt-6.1-terra: 30-minute writes $1.25; Batch / Flex 0.5x, Fast 2x.
  'gpt-6.1-terra': {
    inputUsdPer1M: 1,
    cachedInputUsdPer1M: 0.05,
    cacheWriteUsdPer1M: 1.25,
    outputUsdPer1M: 5,
    longContext: LONG_CONTEXT,
    serviceTierFactors: { flex: 0.5, priority: 2 },
  },
  // models/gpt-6-luna: OpenAI's pick for cost-sensitive, high-volume work.
  'gpt-6-luna': {
    inputUsdPer1M: 0.1,
    cachedInputUsdPer1M: 0.01,
    cacheWriteUsdPer1M: 0.125,
    outputUsdPer1M: 0.5,
    longContext: LONG_CONTEXT,
    serviceTierFactors: { flex: 0.5, priority: 2 },
  },
  // models/gpt-5.5; priority $12.50 / $1.25 / $75 (2.5x).
  'gpt-5.5': {
    inputUsdPer1M: 5,
    cachedInputUsdPer1M: 0.5,
    outputUsdPer1M: 30,
    longContext: LONG_CONTEXT,
    serviceTierFactors: { flex: 0.5, priority: 2.5 },
  },
  // models/gpt-5.4; priority $5 / $0.50 / $30 (2x).
  'gpt-5.4': {
    inputUsdPer1M: 2.5,
    cachedInputUsdPer1M: 0.25,
    outputUsdPer1M: 15,
    longContext: LONG_CONTEXT,
    serviceTierFactors: { flex: 0.5, priority: 2 },
  },
  // models/gpt-5.4-mini; priority $1.50 / $0.15 / $9 (2x).
  'gpt-5.4-mini': {
    inputUsdPer1M: 0.75,
    cachedInputUsdPer1M: 0.075,
    outputUsdPer1M: 4.5,
    serviceTierFactors: { flex: 0.5, priority: 2 },
  },
  // models/gpt-5.4-nano (no priority price published: PRIORITY_PRICE_FACTOR).
  'gpt-5.4-nano': {
    inputUsdPer1M: 0.2,
    cachedInputUsdPer1M: 0.02,
    outputUsdPer1M: 1.25,
    serviceTierFactors: { flex: 0.5 },
  },
  // models/gpt-5-mini; priority $0.45 / $0.045 / $3.60 (1.8x).
  'gpt-5-mini': {
    inputUsdPer1M: 0.25,
    cachedInputUsdPer1M: 0.025,
    outputUsdPer1M: 2,
    serviceTierFactors: { flex: 0.5, priority: 1.8 },
  },
  // models/gpt-5-nano.
  'gpt-5-nano': {
    inputUsdPer1M: 0.05,
    cachedInputUsdPer1M: 0.005,
    outputUsdPer1M: 0.4,
    serviceTierFactors: { flex: 0.5 },
  },
  // models/gpt-4.1; priority $3.50 / $0.875 / $14 (1.75x). No Flex on the gpt-4.1 line.
  'gpt-4.1': {
    inputUsdPer1M: 2,
    cachedInputUsdPer1M: 0.5,
    outputUsdPer1M: 8,
    serviceTierFactors: { priority: 1.75 },
  },
  // models/gpt-4.1-mini, models/gpt-4.1-nano.
  'gpt-4.1-mini': { inputUsdPer1M: 0.4, cachedInputUsdPer1M: 0.1, outputUsdPer1M: 1.6 },
  'gpt-4.1-nano': { inputUsdPer1M: 0.1, cachedInputUsdPer1M: 0.025, outputUsdPer1M: 0.4 },
  // models/o3, models/o4-mini: reasoning models, Flex at half price.
  o3: { inputUsdPer1M: 2, cachedInputUsdPer1M: 0.5, outputUsdPer1M: 8, serviceTierFactors: { flex: 0.5 } },
  'o4-mini': {
    inputUsdPer1M: 1.1,
    cachedInputUsdPer1M: 0.275,
    outputUsdPer1M: 4.4,
    serviceTierFactors: { flex: 0.5 },
  },
  // imageTokens: the most one image bills (high detail, 8 tiles): 2,833 + 8 x 5,667 on mini, 85 + 8 x 170 on 4o.
  'gpt-4o-mini': {
    inputUsdPer1M: 0.15,
    outputUsdPer1M: 0.6,
    cachedInputUsdPer1M: 0.075,
    imageTokens: 48_169,
  },
  'gpt-4o': { inputUsdPer1M: 2.5, outputUsdPer1M: 10, cachedInputUsdPer1M: 1.25, imageTokens: 1_445 },
  // models/text-embedding-3-small, models/text-embedding-3-large: input only.
  'text-embedding-3-small': { inputUsdPer1M: 0.02, outputUsdPer1M: 0 },
  'text-embedding-3-large': { inputUsdPer1M: 0.13, outputUsdPer1M: 0 },
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
  // GPT image models bill tokens: text in, image in (edits), image out. imageOutputTokens is the most
  // one image bills (high quality, 1024x1536: 6,240); imageTokens bounds an input image (up to 6,240
  // more at input_fidelity high, plus its tiles), rounded up.
  'gpt-image-1': {
    inputUsdPer1M: 5,
    cachedInputUsdPer1M: 1.25,
    outputUsdPer1M: 40,
    imageInputUsdPer1M: 10,
    imageOutputUsdPer1M: 40,
    imageOutputTokens: 6_240,
    imageTokens: 10_000,
  },
  'gpt-image-1-mini': {
    inputUsdPer1M: 2,
    cachedInputUsdPer1M: 0.2,
    outputUsdPer1M: 8,
    imageInputUsdPer1M: 2.5,
    imageOutputUsdPer1M: 8,
    imageOutputTokens: 6_240,
    imageTokens: 10_000,
  },
  // DALL·E bills by the image, by quality:size.
  'dall-e-2': {
    inputUsdPer1M: 0,
    outputUsdPer1M: 0,
    imageUsd: { 'standard:256x256': 0.016, 'standard:512x512': 0.018, 'standard:1024x1024': 0.02 },
  },
  'dall-e-3': {
    inputUsdPer1M: 0,
    outputUsdPer1M: 0,
    imageUsd: {
      'standard:1024x1024': 0.04,
      'standard:1024x1792': 0.08,
      'standard:1792x1024': 0.08,
      'hd:1024x1024': 0.08,
      'hd:1024x1792': 0.12,
      'hd:1792x1024': 0.12,
    },
  },
  // Speech: tts-1 and tts-1-hd bill the input by the character; gpt-4o-mini-tts bills text in and audio
  // out by tokens. speechTokensPerCharacter bounds its audio at speed 1: OpenAI estimates $0.015 a
  // minute (1,250 audio tokens) and a minute of speech reads about 900 characters, so 2 is above it.
  'tts-1': { inputUsdPer1M: 0, outputUsdPer1M: 0, usdPer1MCharacters: 15 },
  'tts-1-hd': { inputUsdPer1M: 0, outputUsdPer1M: 0, usdPer1MCharacters: 30 },
  'gpt-4o-mini-tts': {
    inputUsdPer1M: 0.6,
    outputUsdPer1M: 12,
    audioInputUsdPer1M: 0.6,
    audioOutputUsdPer1M: 12,
    speechTokensPerCharacter: 2,
  },
  // Transcription: whisper-1 bills by the minute; the gpt-4o-transcribe models bill audio in, text in
  // (the prompt) and text out by tokens. audioTokensPerSecond bounds the audio tokens: OpenAI
  // estimates $0.006 a minute for gpt-4o-transcribe (1,000 audio tokens, 17 a second), so 20.
  'whisper-1': { inputUsdPer1M: 0, outputUsdPer1M: 0, usdPerMinute: 0.006 },
  'gpt-4o-transcribe': {
    inputUsdPer1M: 2.5,
    outputUsdPer1M: 10,
    audioInputUsdPer1M: 6,
    audioOutputUsdPer1M: 10,
    audioTokensPerSecond: 20,
  },
  'gpt-4o-mini-transcribe': {
    inputUsdPer1M: 1.25,
    outputUsdPer1M: 5,
    audioInputUsdPer1M: 3,
    audioOutputUsdPer1M: 5,
    audioTokensPerSecond: 20,
  },
} as const satisfies Record<string, ModelPrice>;
