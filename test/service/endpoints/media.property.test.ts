/**
 * Property-based, on the media endpoints: a prepared call's worst case (what admission reserves) is
 * never below what the fake upstream bills for it, whatever the model, `n`, quality, size, partial
 * images, input images and fidelity, speech input and speed, upload size; and any JSON body is
 * prepared or refused with a 4xx.
 */
import fc from 'fast-check';
import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { costNanos, worstCaseCostNanos } from '../../../runtime/pricing';
import { createRequestPolicy } from '../../../service/endpoints';
import { speech, transcriptions, translations } from '../../../service/endpoints/audio';
import { imageEdits, imageGenerations } from '../../../service/endpoints/images';
import { GatewayError } from '../../../service/errors';
import { MultipartBody } from '../../../service/http/multipart';
import { priceOf } from '../../../service/pipeline/metering';
import { speechBillOf, transcriptionBillOf } from '../../support/fake-openai/audio';
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

  it('never reserves less for speech than upstream bills', () => {
    const body = fc.record(
      {
        model: fc.constantFrom('tts-1', 'tts-1-hd', 'gpt-4o-mini-tts'),
        voice: fc.constantFrom('alloy', 'coral'),
        input: fc.string({ unit: 'binary', minLength: 1, maxLength: 4096 }),
        instructions: fc.string({ unit: 'binary', maxLength: 200 }),
        speed: fc.double({ min: 0.25, max: 4, noNaN: true }),
      },
      { requiredKeys: ['model', 'voice', 'input'] },
    );
    fc.assert(
      fc.property(body, (raw) => {
        const { instructions, ...rest } = raw;
        const call = rest.model === 'gpt-4o-mini-tts' && instructions !== undefined ? raw : rest;
        const prepared = speech.prepare({ policy, client, body: call });
        const bill = speechBillOf(prepared.body);
        if (typeof bill === 'string') throw new Error(`the fake refuses ${bill}`);
        const price = MEDIA_MODELS[call.model];
        const worst = worstCaseCostNanos(priceOf(config.models, prepared), prepared);
        expect(worst).toBeGreaterThanOrEqual(
          costNanos(price, { ...bill.usage, characters: bill.characters }),
        );
        expect(prepared.promptTokens + prepared.completionTokens).toBeGreaterThanOrEqual(
          bill.usage.prompt_tokens + bill.usage.completion_tokens,
        );
      }),
      {
        numRuns: 300,
        // Found by a run: a 1-byte input and a 1-byte instruction each bill a token of their own.
        examples: [[{ model: 'gpt-4o-mini-tts', voice: 'alloy', input: '\u0000', instructions: '\u0000' }]],
      },
    );
  });

  it('never reserves less for a transcription or translation than upstream bills', () => {
    const upload = fc.record({
      model: fc.constantFrom('whisper-1', 'gpt-4o-transcribe', 'gpt-4o-mini-transcribe'),
      prompt: fc.string({ unit: 'binary', maxLength: 300 }),
      bytes: fc.integer({ min: 1, max: 2_000_000 }),
      stream: fc.boolean(),
    });
    fc.assert(
      fc.property(upload, ({ model, prompt, bytes, stream }) => {
        const spec = model === 'whisper-1' ? (stream ? translations : transcriptions) : transcriptions;
        const fields = new Map<string, string[]>([
          ['model', [model]],
          ['prompt', [prompt]],
          ...(model === 'whisper-1' ? [] : ([['stream', [String(stream)]]] as [string, string[]][])),
        ]);
        const file = {
          field: 'file',
          filename: 'a.mp3',
          contentType: 'audio/mpeg',
          data: Buffer.alloc(bytes),
        };
        const prepared = spec.prepare({ policy, client, body: new MultipartBody(fields, [file]) });
        const bill = transcriptionBillOf(prepared.body, bytes);
        if (typeof bill === 'string') throw new Error(`the fake refuses ${bill}`);
        const worst = worstCaseCostNanos(priceOf(config.models, prepared), prepared);
        const billed = costNanos(MEDIA_MODELS[model], { ...bill.usage, seconds: bill.seconds });
        expect(worst).toBeGreaterThanOrEqual(billed);
        expect(prepared.promptTokens + prepared.completionTokens).toBeGreaterThanOrEqual(
          bill.usage.prompt_tokens + bill.usage.completion_tokens,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('prepares or refuses with a 4xx any JSON body', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (anything, value) => {
        const bodies = [
          [imageGenerations, anything],
          [imageGenerations, { model: 'gpt-image-1', prompt: value, n: value, size: value }],
          [speech, anything],
          [speech, { model: 'tts-1', voice: 'alloy', input: value, speed: value, stream_format: value }],
          [speech, { model: 'gpt-4o-mini-tts', voice: value, input: 'x', instructions: value }],
          [transcriptions, anything],
        ] as const;
        for (const [spec, body] of bodies) {
          try {
            spec.prepare({ policy, client, body });
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
