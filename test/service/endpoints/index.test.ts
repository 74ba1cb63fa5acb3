import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { ENDPOINT_SPECS, createRequestPolicy, specForRoute } from '../../../service/endpoints';
import { speech, transcriptions, translations } from '../../../service/endpoints/audio';
import { chatCompletions } from '../../../service/endpoints/chat-completions';
import { completions } from '../../../service/endpoints/completions';
import { embeddings } from '../../../service/endpoints/embeddings';
import { imageEdits, imageGenerations } from '../../../service/endpoints/images';
import { moderations } from '../../../service/endpoints/moderations';
import { MultipartBody } from '../../../service/http/multipart';
import { MEDIA_MODELS } from '../../support/media-config';
import { responses } from '../../../service/endpoints/responses';
import { responsesCompact } from '../../../service/endpoints/responses-compact';
import { ModelAccess } from '../../../service/endpoints/model-access';
import { testConfigDocument } from '../../support/gateway-harness';

const config = parseGatewayConfig(testConfigDocument({ models: MEDIA_MODELS }));
const policy = createRequestPolicy(config);

function upload(model: string, stream: boolean): Record<string, unknown> {
  const fields = new Map([
    ['model', [model]],
    ['stream', [String(stream)]],
  ]);
  const file = { field: 'file', filename: 'a.mp3', contentType: 'audio/mpeg', data: Buffer.from('mp3') };
  return new MultipartBody(fields, [file]) as unknown as Record<string, unknown>;
}

/** A valid body per spec that asks to stream; a new spec must add one here. */
const STREAMING_BODY: Record<string, Record<string, unknown>> = {
  chat: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], stream: true },
  embeddings: { model: 'embed', input: 'Hi', stream: true },
  responses: { model: 'gpt-4o-mini', input: 'Hi', stream: true },
  completions: { model: 'gpt-4o-mini', prompt: 'Hi', stream: true },
  moderations: { model: 'gpt-4o-mini', input: 'Hi', stream: true },
  // A compaction never streams.
  'responses-compact': { model: 'gpt-4o-mini', input: 'Hi' },
  'images.generations': { model: 'gpt-image-1', prompt: 'Hi', stream: true },
  'images.edits': new MultipartBody(
    new Map([
      ['model', ['gpt-image-1']],
      ['prompt', ['Hi']],
      ['stream', ['true']],
    ]),
    [{ field: 'image', filename: 'a.png', contentType: 'image/png', data: Buffer.from('png') }],
  ) as unknown as Record<string, unknown>,
  'audio.speech': { model: 'gpt-4o-mini-tts', voice: 'alloy', input: 'Hi', stream_format: 'sse' },
  'audio.transcriptions': upload('gpt-4o-transcribe', true),
  'audio.translations': upload('whisper-1', false),
};

/** A frame that ends each spec's stream. */
const TERMINAL_FRAME: Record<string, string> = {
  chat: 'data: [DONE]',
  completions: 'data: [DONE]',
  'images.generations':
    'event: image_generation.completed\ndata: {"type":"image_generation.completed","b64_json":"","usage":{"input_tokens":3,"output_tokens":2}}',
  'images.edits':
    'event: image_edit.completed\ndata: {"type":"image_edit.completed","b64_json":"","usage":{"input_tokens":3,"output_tokens":2}}',
  'audio.speech':
    'data: {"type":"speech.audio.done","usage":{"input_tokens":1,"output_tokens":2,"total_tokens":3}}',
  'audio.transcriptions':
    'data: {"type":"transcript.text.done","text":"x","usage":{"type":"tokens","input_tokens":1,"output_tokens":2,"total_tokens":3}}',
  responses:
    'event: response.completed\ndata: {"type":"response.completed","sequence_number":9,"response":{"id":"resp_1","usage":{"input_tokens":3,"output_tokens":2}}}',
};

describe('ENDPOINT_SPECS', () => {
  it('serves chat completions, embeddings, responses, legacy completions, moderations, compactions, images and audio', () => {
    expect(ENDPOINT_SPECS).toEqual([
      chatCompletions,
      embeddings,
      responses,
      completions,
      moderations,
      responsesCompact,
      imageGenerations,
      imageEdits,
      speech,
      transcriptions,
      translations,
    ]);
    expect(ENDPOINT_SPECS.map((s) => s.route)).toEqual([
      '/v1/chat/completions',
      '/v1/embeddings',
      '/v1/responses',
      '/v1/completions',
      '/v1/moderations',
      '/v1/responses/compact',
      '/v1/images/generations',
      '/v1/images/edits',
      '/v1/audio/speech',
      '/v1/audio/transcriptions',
      '/v1/audio/translations',
    ]);
  });

  it('has unique routes, each under /v1/', () => {
    const routes = ENDPOINT_SPECS.map((s) => s.route);
    expect(new Set(routes).size).toBe(routes.length);
    for (const route of routes) expect(route).toMatch(/^\/v1\//);
  });

  it('has unique names, as they are part of the cache key', () => {
    const names = ENDPOINT_SPECS.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('gives upstream paths relative to the base URL that already ends in /v1', () => {
    for (const spec of ENDPOINT_SPECS) {
      expect(spec.upstreamPath).toMatch(/^\//);
      expect(spec.upstreamPath).not.toMatch(/^\/v1(\/|$)/);
      expect(spec.route).toBe(`/v1${spec.upstreamPath}`);
    }
  });

  it.each(ENDPOINT_SPECS.map((s) => [s.name, s] as const))(
    'gives %s a stream reader when it can stream',
    (name, spec) => {
      const body = STREAMING_BODY[name];
      expect(body).toBeDefined();
      const prepared = spec.prepare({ policy, client: { id: 'app' }, body });
      if (prepared.stream) {
        expect(spec.streamReader).toBeInstanceOf(Function);
        const reader = spec.streamReader!(prepared);
        expect(reader.frame(TERMINAL_FRAME[name])).toBe(TERMINAL_FRAME[name]);
        expect(reader.done).toBe(true);
      }
    },
  );

  it('lets chat completions stream', () => {
    const prepared = chatCompletions.prepare({ policy, client: { id: 'app' }, body: STREAMING_BODY.chat });
    expect(prepared.stream).toBe(true);
    expect(chatCompletions.streamReader).toBeDefined();
  });
});

describe('specForRoute', () => {
  it.each(ENDPOINT_SPECS.map((s) => [s.route, s] as const))('finds the spec of %s', (route, spec) => {
    expect(specForRoute(route)).toBe(spec);
  });

  it.each([
    '/chat/completions',
    '/v1/chat/completions/',
    '/v1/CHAT/completions',
    '/v1/responses/input_tokens',
    '/v1/models',
    '/v1/embeddings?x=1',
    '',
  ])('finds nothing for %j', (route) => {
    expect(specForRoute(route)).toBeUndefined();
  });
});

describe('createRequestPolicy', () => {
  it('keeps the config and resolves model access for it', () => {
    expect(policy.config).toBe(config);
    expect(policy.models).toBeInstanceOf(ModelAccess);
    expect(policy.models.modelsFor({ id: 'limited' })).toEqual(['fast']);
  });
});
