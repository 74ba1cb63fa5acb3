/** The media parts of the price table: their config fields, validated, and how calls are metered with them. */
import { OPENAI_MEDIA_PRICES } from '../../lib/config/project';
import {
  DEFAULT_MAX_FORM_BYTES,
  GatewayConfigError,
  parseGatewayConfig,
  type ModelPrice,
} from '../../runtime/gateway-config';
import {
  costNanos,
  readAudioUsage,
  readImageUsage,
  readUsage,
  worstCaseCostNanos,
  worstCaseUsage,
} from '../../runtime/pricing';
import { testConfigDocument } from '../support/gateway-harness';

const withModel = (price: Record<string, unknown>, limits: Record<string, unknown> = {}) =>
  testConfigDocument({ models: { media: price }, limits });

function fieldOf(doc: unknown): string {
  try {
    parseGatewayConfig(doc);
  } catch (err) {
    if (err instanceof GatewayConfigError) return err.field;
    throw err;
  }
  throw new Error('expected the document to be rejected');
}

describe('media prices in the config', () => {
  it('accepts every media price of the project', () => {
    const config = parseGatewayConfig(testConfigDocument({ models: OPENAI_MEDIA_PRICES }));
    expect(config.models['dall-e-3'].imageUsd?.['hd:1792x1024']).toBe(0.12);
    expect(config.models['whisper-1'].usdPerMinute).toBe(0.006);
    expect(config.limits.maxFormBytes).toBeUndefined();
    expect(DEFAULT_MAX_FORM_BYTES).toBeGreaterThan(25 * 1024 * 1024);
  });

  it.each([
    [{ inputUsdPer1M: 0, outputUsdPer1M: 0, imageUsd: {} }, 'models.media.imageUsd'],
    [{ inputUsdPer1M: 0, outputUsdPer1M: 0, imageUsd: { hd: 1 } }, 'models.media.imageUsd.hd'],
    [{ inputUsdPer1M: 0, outputUsdPer1M: 0, imageUsd: { 'hd:1x1': -1 } }, 'models.media.imageUsd.hd:1x1'],
    [{ inputUsdPer1M: 0, outputUsdPer1M: 0, imageOutputTokens: 1.5 }, 'models.media.imageOutputTokens'],
    [{ inputUsdPer1M: 0, outputUsdPer1M: 0, usdPerMinute: 'x' }, 'models.media.usdPerMinute'],
    [{ inputUsdPer1M: 0, outputUsdPer1M: 0, audioTokensPerSecond: 0 }, 'models.media.audioTokensPerSecond'],
    [
      { inputUsdPer1M: 0, outputUsdPer1M: 0, speechTokensPerCharacter: 0 },
      'models.media.speechTokensPerCharacter',
    ],
  ])('refuses %j at %s', (price, field) => {
    expect(fieldOf(withModel(price))).toBe(field);
  });

  it('validates the upload limits', () => {
    expect(fieldOf(withModel({ inputUsdPer1M: 0, outputUsdPer1M: 0 }, { maxFormBytes: 1 << 30 }))).toBe(
      'limits.maxFormBytes',
    );
    expect(fieldOf(withModel({ inputUsdPer1M: 0, outputUsdPer1M: 0 }, { minAudioBytesPerSecond: 0 }))).toBe(
      'limits.minAudioBytesPerSecond',
    );
  });
});

describe('media metering', () => {
  const image: ModelPrice = OPENAI_MEDIA_PRICES['gpt-image-1'];

  it('prices image tokens apart from text on each side', () => {
    const usage = readImageUsage({
      input_tokens: 110,
      input_tokens_details: { text_tokens: 10, image_tokens: 100 },
      output_tokens: 1_000,
    })!;
    // 10 x $5 + 100 x $10 + 1,000 x $40 per million.
    expect(costNanos(image, usage)).toBe(10 * 5_000 + 100 * 10_000 + 1_000 * 40_000);
    expect(
      readImageUsage({ input_tokens: 1, input_tokens_details: { image_tokens: 2 }, output_tokens: 1 }),
    ).toBeUndefined();
    expect(
      readImageUsage({ input_tokens: 1, output_tokens: 4, output_tokens_details: { image_tokens: 3 } }),
    ).toMatchObject({
      completion_tokens_details: { image_tokens: 3 },
    });
  });

  it('prices images, characters and seconds by the unit', () => {
    expect(
      costNanos({ inputUsdPer1M: 0, outputUsdPer1M: 0, usdPerImage: 0.04 }, { prompt_tokens: 0, images: 3 }),
    ).toBe(120_000_000);
    expect(costNanos(OPENAI_MEDIA_PRICES['tts-1'], { prompt_tokens: 0, characters: 1_000 })).toBe(15_000_000);
    expect(costNanos(OPENAI_MEDIA_PRICES['whisper-1'], { prompt_tokens: 0, seconds: 90 })).toBe(9_000_000);
    expect(readUsage({ prompt_tokens: 0, images: -1 })).toBeUndefined();
    expect(readUsage({ prompt_tokens: 0, seconds: Number.NaN })).toBeUndefined();
  });

  it('reads token and duration usage of audio', () => {
    expect(
      readAudioUsage({
        type: 'tokens',
        input_tokens: 30,
        input_token_details: { audio_tokens: 20 },
        output_tokens: 5,
      }),
    ).toMatchObject({ prompt_tokens: 30, completion_tokens: 5, prompt_tokens_details: { audio_tokens: 20 } });
    expect(readAudioUsage({ type: 'duration', seconds: 12.5 })).toMatchObject({ seconds: 12.5 });
    expect(readAudioUsage({ input_tokens: 3, output_tokens: 9 }, true)).toMatchObject({
      completion_tokens_details: { audio_tokens: 9 },
    });
    expect(readAudioUsage({ type: 'tokens', input_tokens: 'x' })).toBeUndefined();
  });

  it('reserves each side at its dearest kind, and every unit', () => {
    expect(worstCaseUsage(image, { promptTokens: 10, completionTokens: 20, images: true })).toMatchObject({
      prompt_tokens_details: { image_tokens: 10 },
      completion_tokens_details: { image_tokens: 0 }, // image output costs what text output does here
    });
    expect(worstCaseCostNanos(image, { promptTokens: 10, completionTokens: 0, images: true })).toBe(100_000);
    expect(
      worstCaseCostNanos(OPENAI_MEDIA_PRICES['tts-1'], {
        promptTokens: 5,
        completionTokens: 0,
        billedCharacters: 2_000,
      }),
    ).toBe(30_000_000);
    expect(
      worstCaseCostNanos(OPENAI_MEDIA_PRICES['whisper-1'], {
        promptTokens: 0,
        completionTokens: 10,
        billedSeconds: 60,
      }),
    ).toBe(6_000_000);
  });
});
