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
