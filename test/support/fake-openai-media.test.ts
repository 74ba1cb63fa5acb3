/** The fake's moderations, images and audio endpoints, via the `openai` SDK: wire shapes, refusals and what they bill. */
import OpenAI, { toFile } from 'openai';
import { FakeOpenAI } from './fake-openai';
import { TRANSCRIPT } from './fake-openai/audio';

describe('fake OpenAI upstream: media', () => {
  const fake = new FakeOpenAI();
  let sdk: OpenAI;
  let url: string;
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => [r.status, ((await r.json()) as { error: { param: string; code: string } }).error]);

  beforeAll(async () => {
    ({ url } = await fake.start());
    sdk = new OpenAI({ baseURL: url, apiKey: 'sk-test', maxRetries: 0 });
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.stop());

  it('refuses parameters the SDK types do not have, as OpenAI does', async () => {
    expect(await post('/moderations', { input: 'x', user: 'u' })).toEqual([
      400,
      expect.objectContaining({ param: 'user', code: 'unknown_parameter' }),
    ]);
    expect(await post('/images/generations', { prompt: 'x', messages: [] })).toEqual([
      400,
      expect.objectContaining({ param: 'messages', code: 'unknown_parameter' }),
    ]);
    expect(await post('/audio/speech', { model: 'tts-1', voice: 'a', input: 'x', user: 'u' })).toEqual([
      400,
      expect.objectContaining({ param: 'user', code: 'unknown_parameter' }),
    ]);
    const form = new FormData();
    form.append('model', 'whisper-1');
    form.append('file', new Blob([Buffer.alloc(10)]), 'a.mp3');
    form.append('n', '2');
    const refused = await fetch(`${url}/audio/transcriptions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-test' },
      body: form,
    });
    expect(refused.status).toBe(400);
    expect(fake.billed).toHaveLength(0);
  });

  it('answers gpt-image-1 with its usage (no output details) and dall-e-3 with URLs, billing each its way', async () => {
    const tokens = await sdk.images.generate({
      model: 'gpt-image-1',
      prompt: 'x',
      quality: 'low',
      size: '1024x1024',
    });
    expect(tokens.usage).toMatchObject({ output_tokens: 272, input_tokens_details: { image_tokens: 0 } });
    expect(tokens.usage?.output_tokens_details).toBeUndefined();
    const mini = await sdk.images.generate({
      model: 'gpt-image-1-mini',
      prompt: 'x',
      quality: 'low',
      size: '1024x1024',
    });
    expect(mini.usage?.output_tokens_details).toEqual({ image_tokens: 272, text_tokens: 0 });
    const perImage = await sdk.images.generate({
      model: 'dall-e-3',
      prompt: 'x',
      quality: 'hd',
      size: '1024x1792',
    });
    expect(perImage.data?.[0].url).toMatch(/^https:/);
    expect(fake.billed.map((b) => b.images?.variant)).toEqual([undefined, undefined, 'hd:1024x1792']);
    const refused = await post('/images/generations', { model: 'dall-e-3', prompt: 'x', n: 2 });
    expect(refused[0]).toBe(400);
  });

  it('speaks audio bytes with their content type, and transcribes to text and subtitles', async () => {
    const speech = await sdk.audio.speech.create({
      model: 'tts-1',
      voice: 'alloy',
      input: 'Hi',
      response_format: 'wav',
    });
    expect(speech.headers.get('content-type')).toBe('audio/wav');
    expect((await speech.arrayBuffer()).byteLength).toBe(200);
    const file = await toFile(Buffer.alloc(40_000), 'a.mp3');
    const text = await sdk.audio.transcriptions.create({ model: 'whisper-1', file, response_format: 'text' });
    expect(String(text)).toBe(TRANSCRIPT);
    const vtt = await sdk.audio.translations.create({
      model: 'whisper-1',
      file: await toFile(Buffer.alloc(40_000), 'a.mp3'),
      response_format: 'vtt',
    });
    expect(String(vtt)).toMatch(/^WEBVTT/);
    expect(fake.billed.map((b) => [b.endpoint, b.characters ?? b.seconds])).toEqual([
      ['audio.speech', 2],
      ['audio.transcriptions', 3],
      ['audio.translations', 3],
    ]);
  });
});
