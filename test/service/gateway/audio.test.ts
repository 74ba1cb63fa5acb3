/**
 * Audio through the gateway with the openai SDK: speech (audio bytes streamed through, or SSE),
 * transcriptions (JSON, text, verbose JSON, SSE) and translations, by the character, by the minute and
 * by tokens; spend is what the fake upstream billed, or, where the answer reports nothing, its worst
 * case (never below the bill). Caps and bad inputs are 400 naming the param; a client without the
 * family gets 404.
 */
import { toFile } from 'openai';
import { eventually } from '../../support/eventually';
import { TRANSCRIPT } from '../../support/fake-openai/audio';
import { apiErrorOf } from '../../support/refusal';
import { GatewayHarness, KEYS } from '../../support/gateway-harness';
import { billedNanos, MEDIA_MODELS } from '../../support/media-config';

/** 64 KiB of "audio": the fake plays it 5 s; the gateway's worst case is 64 KiB / 500 B/s = 132 s. */
const AUDIO = Buffer.alloc(64 * 1024, 3);
const audioFile = () => toFile(AUDIO, 'speech.mp3', { type: 'audio/mpeg' });

describe('audio through the gateway', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await GatewayHarness.start({
      config: { models: MEDIA_MODELS, limits: { strictParameters: true, maxBodyBytes: 65_536 } },
    });
  });
  afterAll(() => h.stop());
  afterEach(() => h.fake.reset());

  const spent = async () => (await h.store.monthToDateSpendNanos()) ?? 0;
  const spendMatchesBill = async (before: number) => {
    expect(h.fake.billed.length).toBeGreaterThan(0);
    await eventually(async () => (await spent()) === before + billedNanos(h.fake.billed));
  };

  it('streams speech bytes through with their content type, charged by the character', async () => {
    const before = await spent();
    const input = 'Hello there, gateway. ✓';
    const res = await h
      .client()
      .audio.speech.create({ model: 'tts-1', voice: 'alloy', input, response_format: 'opus' });
    expect(res.headers.get('content-type')).toBe('audio/opus');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(Math.ceil([...input].length * 100));
    expect(bytes.every((b) => b === 7)).toBe(true);
    await spendMatchesBill(before);
    expect(h.fake.billed[0].characters).toBe([...input].length);
  });

  it('meters token-billed speech from its SSE usage, and charges its worst case when the bytes report none', async () => {
    const before = await spent();
    const sse = await h.client().audio.speech.create({
      model: 'gpt-4o-mini-tts',
      voice: 'coral',
      input: 'Streamed speech',
      instructions: 'Cheerful.',
      stream_format: 'sse',
    });
    const text = await sse.text();
    expect(text).toContain('"type":"speech.audio.done"');
    await spendMatchesBill(before);
    const bytes = await h
      .client()
      .audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'coral', input: 'Some speech', speed: 0.5 });
    expect((await bytes.arrayBuffer()).byteLength).toBeGreaterThan(0);
    await eventually(async () => (await spent()) > before + billedNanos(h.fake.billed.slice(0, 1)));
    expect((await spent()) - before).toBeGreaterThanOrEqual(billedNanos(h.fake.billed));
  });

  it('transcribes by the minute from the duration whisper-1 reports, as JSON and verbose JSON', async () => {
    const before = await spent();
    const json = await h
      .client()
      .audio.transcriptions.create({ model: 'whisper-1', file: await audioFile() });
    expect(json.text).toBe(TRANSCRIPT);
    const verbose = await h.client().audio.transcriptions.create({
      model: 'whisper-1',
      file: await audioFile(),
      response_format: 'verbose_json',
      timestamp_granularities: ['word', 'segment'],
    });
    expect(verbose.duration).toBe(5);
    const sent = h.fake.requestsTo('/v1/audio/transcriptions')[1].form!;
    expect(sent.fields['timestamp_granularities[]']).toEqual(['word', 'segment']);
    expect(sent.files[0].data.equals(AUDIO)).toBe(true);
    await spendMatchesBill(before);
  });

  it('relays a text transcript as text, charged its worst case, never below the bill', async () => {
    const before = await spent();
    const text = await h
      .client()
      .audio.transcriptions.create({ model: 'whisper-1', file: await audioFile(), response_format: 'srt' });
    expect(String(text)).toContain(TRANSCRIPT);
    // 64 KiB over 500 B/s is 132 s at $0.006 a minute.
    await eventually(async () => (await spent()) - before === Math.ceil((132 * 0.006 * 1e9) / 60));
    expect((await spent()) - before).toBeGreaterThanOrEqual(billedNanos(h.fake.billed));
  });

  it('meters a token-billed transcription from its usage, streamed and not', async () => {
    const before = await spent();
    const json = await h.client().audio.transcriptions.create({
      model: 'gpt-4o-transcribe',
      file: await audioFile(),
      prompt: 'A pangram.',
    });
    expect(json.text).toBe(TRANSCRIPT);
    const stream = await h.client().audio.transcriptions.create({
      model: 'gpt-4o-mini-transcribe',
      file: await audioFile(),
      stream: true,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.at(-1)).toBe('transcript.text.done');
    expect(types.filter((t) => t === 'transcript.text.delta')).toHaveLength(TRANSCRIPT.split(' ').length);
    await spendMatchesBill(before);
  });

  it('translates with whisper-1, metered from a verbose answer’s duration', async () => {
    const before = await spent();
    const answer = await h.client().audio.translations.create({
      model: 'whisper-1',
      file: await audioFile(),
      response_format: 'verbose_json',
    });
    expect(answer.text).toBe(TRANSCRIPT);
    await spendMatchesBill(before);
  });

  it('relays an upstream refusal of speech as is, charging nothing, and a failure as 502', async () => {
    const before = await spent();
    h.fake.enqueue({
      path: '/v1/audio/speech',
      status: 400,
      body: { error: { message: 'bad voice', type: 'invalid_request_error', param: 'voice', code: null } },
    });
    const refused = await apiErrorOf(
      h.client().audio.speech.create({ model: 'tts-1', voice: 'nobody', input: 'x' }),
    );
    expect(refused).toMatchObject({ status: 400, param: 'voice' });
    h.fake.enqueue(...Array.from({ length: 3 }, () => ({ path: '/v1/audio/speech', status: 500 })));
    const failed = await apiErrorOf(
      h.client().audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'x' }),
    );
    expect(failed).toMatchObject({ status: 502 });
    expect(h.fake.billed).toHaveLength(0);
    expect(await spent()).toBe(before);
  });

  it('charges speech its worst case when the caller leaves mid-audio (upstream billed it all)', async () => {
    const before = await spent();
    const controller = new AbortController();
    const res = await h
      .client()
      .audio.speech.create(
        { model: 'tts-1-hd', voice: 'alloy', input: 'x'.repeat(4000) },
        { signal: controller.signal },
      );
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await eventually(async () => (await spent()) - before === billedNanos(h.fake.billed));
    expect(h.fake.billed[0].characters).toBe(4000);
  });

  it.each([
    [{ model: 'tts-1', voice: 'alloy', input: '' }, 'input'],
    [{ model: 'tts-1', voice: 'alloy', input: 'x'.repeat(4097) }, 'input'],
    [{ model: 'tts-1', input: 'x' }, 'voice'],
    [{ model: 'gpt-4o-mini-tts', voice: 'alloy', input: 'x', speed: 5 }, 'speed'],
    [{ model: 'tts-1', voice: 'alloy', input: 'x', stream_format: 'mp3' }, 'stream_format'],
    [{ model: 'gpt-4o-mini', voice: 'alloy', input: 'x' }, 'model'],
    [{ model: 'tts-1', voice: 'alloy', input: 'x', user: 'u' }, 'user'],
  ])('answers 400 naming the param to speech %j', async (body, param) => {
    const res = await h.post('/audio/speech', JSON.stringify(body));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe(param);
    expect(h.fake.received).toBe(0);
  });

  it('refuses a transcription without one file, with an unknown field or a model that does not transcribe', async () => {
    const post = (form: FormData) =>
      fetch(`${h.url}/audio/transcriptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.app}` },
        body: form,
      }).then(async (r) => [r.status, ((await r.json()) as { error: { param: string } }).error.param]);
    const blob = new Blob([AUDIO], { type: 'audio/mpeg' });
    const noFile = new FormData();
    noFile.append('model', 'whisper-1');
    expect(await post(noFile)).toEqual([400, 'file']);
    const unknown = new FormData();
    unknown.append('model', 'whisper-1');
    unknown.append('file', blob, 'a.mp3');
    unknown.append('speed', '2');
    expect(await post(unknown)).toEqual([400, 'speed']);
    const chat = new FormData();
    chat.append('model', 'gpt-4o-mini');
    chat.append('file', blob, 'a.mp3');
    expect(await post(chat)).toEqual([400, 'model']);
    expect(h.fake.received).toBe(0);
  });

  it('answers 404 to a client without the audio family', async () => {
    const speech = await apiErrorOf(
      h.client(KEYS.limited).audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'x' }),
    );
    expect(speech).toMatchObject({ status: 404, code: 'unknown_url' });
    const transcription = await apiErrorOf(
      h.client(KEYS.limited).audio.transcriptions.create({ model: 'whisper-1', file: await audioFile() }),
    );
    expect(transcription).toMatchObject({ status: 404, code: 'unknown_url' });
    expect(h.fake.received).toBe(0);
  });
});

describe('streams cut by upstream', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await GatewayHarness.start({ config: { models: MEDIA_MODELS } });
  });
  afterAll(() => h.stop());

  const spent = async () => (await h.store.monthToDateSpendNanos()) ?? 0;

  it('drops the caller of speech cut short, so it sees the audio incomplete, and charges the characters', async () => {
    h.fake.reset();
    h.fake.enqueue({ path: '/v1/audio/speech', cutAfterChunks: 1 });
    const before = await spent();
    const res = await h.client().audio.speech.create({ model: 'tts-1', voice: 'a', input: 'x'.repeat(1000) });
    await expect(res.arrayBuffer()).rejects.toThrow();
    await eventually(async () => (await spent()) - before === billedNanos(h.fake.billed));
  });

  it.each([
    [
      'a transcription',
      '/v1/audio/transcriptions',
      async () =>
        h
          .client()
          .audio.transcriptions.create({ model: 'gpt-4o-transcribe', file: await audioFile(), stream: true }),
    ],
    [
      'an image generation',
      '/v1/images/generations',
      async () =>
        h.client().images.generate({ model: 'gpt-image-1', prompt: 'x', stream: true, partial_images: 2 }),
    ],
  ])(
    'ends %s with an error event and charges its worst case, never below the bill',
    async (_name, path, start) => {
      h.fake.reset();
      h.fake.enqueue({ path, cutAfterChunks: 1 });
      const before = await spent();
      const stream = await start();
      const events: string[] = [];
      const failure = await (async () => {
        for await (const event of stream) events.push(event.type);
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(events).toHaveLength(1);
      expect(failure).toBeDefined();
      await eventually(async () => (await spent()) > before);
      expect((await spent()) - before).toBeGreaterThanOrEqual(billedNanos(h.fake.billed));
      expect(h.fake.billed).toHaveLength(1);
    },
  );
});
