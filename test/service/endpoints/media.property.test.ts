/**
 * Property-based, on the media endpoints: a prepared call's worst case (what admission reserves) is
 * never below what the fake upstream bills for it, whatever the model, `n`, quality, size, partial
 * images, input images and fidelity; and any JSON body is prepared or refused with a 4xx.
 */
import fc from 'fast-check';
import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { costNanos, worstCaseCostNanos } from '../../../runtime/pricing';
import { createRequestPolicy } from '../../../service/endpoints';
import { imageEdits, imageGenerations } from '../../../service/endpoints/images';
import { GatewayError } from '../../../service/errors';
import { MultipartBody } from '../../../service/http/multipart';
import { priceOf } from '../../../service/pipeline/metering';
import { imageBillOf } from '../../support/fake-openai/images';
import { testConfigDocument } from '../../support/gateway-harness';
import { MEDIA_MODELS } from '../../support/media-config';

const config = parseGatewayConfig(testConfigDocument({ models: MEDIA_MODELS, limits: { maxN: 10 } }));
const policy = createRequestPolicy(config);
const client = { id: 'app' };

const prompt = fc.string({ unit: 'binary', minLength: 1, maxLength: 300 });
const tokenBilled = fc.record(
  {
    model: fc.constantFrom('gpt-image-1', 'gpt-image-1-mini'),
    prompt,
    n: fc.integer({ min: 1, max: 10 }),
    quality: fc.constantFrom('low', 'medium', 'high', 'auto'),
    size: fc.constantFrom('1024x1024', '1024x1536', '1536x1024', 'auto'),
    partial_images: fc.integer({ min: 0, max: 3 }),
    stream: fc.boolean(),
    input_fidelity: fc.constantFrom('low', 'high'),
  },
  { requiredKeys: ['model', 'prompt'] },
);
const perImage = fc.oneof(
  fc.record(
    {
      model: fc.constant('dall-e-3'),
      prompt,
      quality: fc.constantFrom('standard', 'hd', 'auto'),
      size: fc.constantFrom('1024x1024', '1792x1024', '1024x1792', 'auto'),
    },
    { requiredKeys: ['model', 'prompt'] },
  ),
  fc.record(
    {
      model: fc.constant('dall-e-2'),
      prompt,
      n: fc.integer({ min: 1, max: 10 }),
      size: fc.constantFrom('256x256', '512x512', '1024x1024'),
    },
    { requiredKeys: ['model', 'prompt'] },
  ),
);

/** What the fake bills for the body as sent upstream, in nano-dollars at the test prices. */
function billedNanos(body: Record<string, unknown>, inputImages: number): number {
  const bill = imageBillOf(body, inputImages);
  if (!bill) throw new Error(`the fake refuses ${JSON.stringify(body)}`);
  const price = MEDIA_MODELS[String(body.model)];
  if (!bill.images) return costNanos(price, bill.usage);
  const usdPerImage = price.imageUsd![bill.images.variant];
  return costNanos({ ...price, usdPerImage }, { ...bill.usage, images: bill.images.count });
}

function edit(fields: Record<string, unknown>, images: number): MultipartBody {
  const values = new Map(Object.entries(fields).map(([k, v]) => [k, [String(v)]]));
  const file = { contentType: 'image/png', filename: 'a.png', data: Buffer.from('png') };
  return new MultipartBody(
    values,
    Array.from({ length: images }, () => ({ ...file, field: 'image[]' })),
  );
}

describe('media worst cases', () => {
  it('never reserves less for a generation than upstream bills', () => {
    fc.assert(
      fc.property(fc.oneof(tokenBilled, perImage), (body) => {
        const { input_fidelity: _fidelity, ...generation } = body as Record<string, unknown>;
        const prepared = imageGenerations.prepare({ policy, client, body: generation });
        const worst = worstCaseCostNanos(priceOf(config.models, prepared), prepared);
        expect(worst).toBeGreaterThanOrEqual(billedNanos(prepared.body, 0));
        expect(worst).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });

  it('never reserves less for an edit than upstream bills', () => {
    fc.assert(
      fc.property(tokenBilled, fc.integer({ min: 1, max: 16 }), (body, images) => {
        const prepared = imageEdits.prepare({ policy, client, body: edit(body, images) });
        const worst = worstCaseCostNanos(priceOf(config.models, prepared), prepared);
        expect(worst).toBeGreaterThanOrEqual(billedNanos(prepared.body, images));
      }),
      { numRuns: 300 },
    );
  });

  it('prepares or refuses with a 4xx any JSON body', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (anything, value) => {
        for (const body of [anything, { model: 'gpt-image-1', prompt: value, n: value, size: value }]) {
          try {
            imageGenerations.prepare({ policy, client, body });
          } catch (err) {
            expect(err).toBeInstanceOf(GatewayError);
            expect((err as GatewayError).status).toBeGreaterThanOrEqual(400);
            expect((err as GatewayError).status).toBeLessThan(500);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
