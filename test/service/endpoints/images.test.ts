import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { createRequestPolicy } from '../../../service/endpoints';
import { imageGenerations, pricedVariant } from '../../../service/endpoints/images';
import { ImagesStreamReader } from '../../../service/endpoints/images-stream';
import { testConfigDocument } from '../../support/gateway-harness';
import { MEDIA_MODELS } from '../../support/media-config';
import { refusalOf } from '../../support/refusal';

const policy = createRequestPolicy(parseGatewayConfig(testConfigDocument({ models: MEDIA_MODELS })));
const client = { id: 'app' };
const DALL_E_3 = MEDIA_MODELS['dall-e-3'].imageUsd!;

const completed = (usage: Record<string, unknown>) =>
  `event: image_generation.completed\ndata: ${JSON.stringify({ type: 'image_generation.completed', b64_json: 'x', usage })}`;

describe('image generation spec', () => {
  it('reserves n images of the largest output, partial images included, for token-billed models', () => {
    const prepared = imageGenerations.prepare({
      policy,
      client,
      body: { model: 'gpt-image-1', prompt: 'abc', n: 2, partial_images: 3, stream: true },
    });
    expect(prepared).toMatchObject({ completionTokens: 2 * (6_240 + 3 * 100), images: true, stream: true });
    expect(prepared.billedImages).toBeUndefined();
  });

  it('prices a per-image model at the dearest variant its quality and size allow', () => {
    expect(pricedVariant(DALL_E_3, 'standard', '1024x1024')).toBe('standard:1024x1024');
    expect(pricedVariant(DALL_E_3, undefined, '1024x1024')).toBe('hd:1024x1024');
    expect(pricedVariant(DALL_E_3, 'auto', 'auto')).toMatch(/^hd:/);
    expect(refusalOf(() => pricedVariant(DALL_E_3, 'hd', '64x64')).param).toBe('size');
    expect(refusalOf(() => pricedVariant(DALL_E_3, 'ultra', '1024x1024')).param).toBe('quality');
    const prepared = imageGenerations.prepare({
      policy,
      client,
      body: { model: 'dall-e-3', prompt: 'x', quality: 'standard', size: '1792x1024' },
    });
    expect(prepared).toMatchObject({
      billedImages: 1,
      imageVariant: 'standard:1792x1024',
      completionTokens: 0,
    });
  });

  it('reads the usage of a JSON answer, or counts the images of a per-image one', () => {
    const tokens = imageGenerations.prepare({ policy, client, body: { model: 'gpt-image-1', prompt: 'x' } });
    const usage = {
      input_tokens: 5,
      input_tokens_details: { text_tokens: 5, image_tokens: 0 },
      output_tokens: 272,
    };
    expect(imageGenerations.usageOfJson(JSON.stringify({ data: [{}], usage }), tokens)).toMatchObject({
      prompt_tokens: 5,
      completion_tokens: 272,
      completion_tokens_details: { image_tokens: 272 },
    });
    expect(imageGenerations.usageOfJson('{"data":[{}]}', tokens)).toBeUndefined();
    const perImage = imageGenerations.prepare({
      policy,
      client,
      body: { model: 'dall-e-2', prompt: 'x', n: 2, size: '256x256' },
    });
    expect(imageGenerations.usageOfJson('{"data":[{"url":"u"},{"url":"v"}]}', perImage)).toMatchObject({
      images: 2,
    });
    expect(imageGenerations.usageOfJson('not json', perImage)).toBeUndefined();
  });
});

describe('image stream reader', () => {
  const prepared = imageGenerations.prepare({
    policy,
    client,
    body: { model: 'gpt-image-1', prompt: 'x', n: 2, stream: true },
  });

  it('sums the usage of every completed image, known once all n completed', () => {
    const reader = new ImagesStreamReader(prepared);
    reader.frame('event: image_generation.partial_image\ndata: {"type":"image_generation.partial_image"}');
    reader.frame(completed({ input_tokens: 4, output_tokens: 100 }));
    expect(reader.done).toBe(true);
    expect(reader.usage).toBeUndefined(); // one of two: an image billed unseen is never free
    reader.frame(completed({ input_tokens: 0, output_tokens: 100 }));
    expect(reader.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 200 });
    expect(reader.frames).toBe(3);
  });

  it('settles at the worst case when one usage is unreadable, and notes errors', () => {
    const reader = new ImagesStreamReader(prepared);
    reader.frame(completed({ input_tokens: -1 }));
    reader.frame(completed({ input_tokens: 1, output_tokens: 1 }));
    expect(reader.usage).toBeUndefined();
    reader.frame('event: error\ndata: {"type":"error","error":{"message":"x"}}');
    expect(reader.errored).toBe(true);
    expect(reader.maxFrameBytes).toBeGreaterThan(1 << 20);
  });
});
