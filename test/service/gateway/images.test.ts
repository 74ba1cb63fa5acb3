/**
 * Image generation and edits through the gateway with the openai SDK: JSON and streamed (partial
 * images), by tokens (gpt-image-1) and by the image (dall-e-3); spend is what the fake upstream billed.
 * Caps and bad inputs are 400 naming the param; a client without the family gets 404.
 */
import { toFile } from 'openai';
import { eventually } from '../../support/eventually';
import { apiErrorOf } from '../../support/refusal';
import { GatewayHarness, KEYS } from '../../support/gateway-harness';
import { billedNanos, MEDIA_MODELS } from '../../support/media-config';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

describe('images through the gateway', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await GatewayHarness.start({ config: { models: MEDIA_MODELS, limits: { strictParameters: true } } });
  });
  afterAll(() => h.stop());
  afterEach(() => h.fake.reset());

  const spent = async () => (await h.store.monthToDateSpendNanos()) ?? 0;
  /** Waits until the spend grew by what the fake billed since `before`. */
  const spendMatchesBill = async (before: number) => {
    expect(h.fake.billed.length).toBeGreaterThan(0);
    await eventually(async () => (await spent()) === before + billedNanos(h.fake.billed));
  };

  it('generates with a token-billed model and meters the usage it reports', async () => {
    const before = await spent();
    const answer = await h.client().images.generate({
      model: 'gpt-image-1',
      prompt: 'A lighthouse at dusk',
      quality: 'low',
      size: '1024x1024',
      n: 2,
    });
    expect(answer.data).toHaveLength(2);
    expect(answer.usage?.output_tokens).toBe(2 * 272);
    expect(h.fake.requestsTo('/v1/images/generations')[0].body).toMatchObject({ user: 'app' });
    await spendMatchesBill(before);
  });

  it('streams partial images then the completed images, frames larger than a chat frame included', async () => {
    // 800 KiB of image is over 1 MiB of base64: more than one chat stream frame may hold.
    h.fake.behaviour = { ...h.fake.behaviour, imageBytes: 800 << 10 };
    const before = await spent();
    const stream = await h.client().images.generate({
      model: 'gpt-image-1-mini',
      prompt: 'A fox',
      stream: true,
      partial_images: 2,
      n: 2,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual([
      'image_generation.partial_image',
      'image_generation.partial_image',
      'image_generation.completed',
      'image_generation.partial_image',
      'image_generation.partial_image',
      'image_generation.completed',
    ]);
    await spendMatchesBill(before);
  });

  it('meters a per-image model at the price of its quality and size', async () => {
    const before = await spent();
    const answer = await h.client().images.generate({
      model: 'dall-e-3',
      prompt: 'A castle',
      quality: 'hd',
      size: '1792x1024',
    });
    expect(answer.data).toHaveLength(1);
    await spendMatchesBill(before);
    expect((await spent()) - before).toBe(120_000_000);
  });

  it('edits uploaded images with a mask (multipart in), streamed and not', async () => {
    const before = await spent();
    const answer = await h.client().images.edit({
      model: 'gpt-image-1',
      image: [
        await toFile(PNG, 'a.png', { type: 'image/png' }),
        await toFile(PNG, 'b.png', { type: 'image/png' }),
      ],
      mask: await toFile(PNG, 'mask.png', { type: 'image/png' }),
      prompt: 'Add a hat',
      input_fidelity: 'high',
      quality: 'medium',
      size: '1024x1536',
    });
    expect(answer.data).toHaveLength(1);
    const sent = h.fake.requestsTo('/v1/images/edits')[0].form!;
    expect(sent.fields).toMatchObject({ model: 'gpt-image-1', prompt: 'Add a hat', user: 'app' });
    expect(sent.files.map((f) => [f.field, f.filename])).toEqual([
      ['image[]', 'a.png'],
      ['image[]', 'b.png'],
      ['mask', 'mask.png'],
    ]);
    expect(sent.files.every((f) => f.data.equals(PNG))).toBe(true);
    const stream = await h.client().images.edit({
      model: 'gpt-image-1',
      image: await toFile(PNG, 'a.png', { type: 'image/png' }),
      prompt: 'Add a hat',
      stream: true,
      partial_images: 1,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(['image_edit.partial_image', 'image_edit.completed']);
    await spendMatchesBill(before);
  });

  it.each([
    [{ model: 'gpt-image-1', prompt: 'x', n: 3 }, 'n'],
    [{ model: 'gpt-image-1', prompt: 'x', n: 0 }, 'n'],
    [{ model: 'gpt-image-1', prompt: 'x', partial_images: 4, stream: true }, 'partial_images'],
    [{ model: 'gpt-image-1', prompt: '' }, 'prompt'],
    [{ model: 'gpt-image-1', prompt: 'x', stream: 'yes' }, 'stream'],
    [{ model: 'dall-e-3', prompt: 'x', size: '512x512' }, 'size'],
    [{ model: 'dall-e-3', prompt: 'x', quality: 'ultra', size: '1024x1024' }, 'quality'],
    [{ model: 'gpt-4o-mini', prompt: 'x' }, 'model'],
    [{ prompt: 'x' }, 'model'],
    [{ model: 'gpt-image-1', prompt: 'x', seed: 1 }, 'seed'],
  ])('answers 400 naming the param to %j', async (body, param) => {
    const res = await h.post('/images/generations', JSON.stringify(body));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe(param);
    expect(h.fake.received).toBe(0);
  });

  it('refuses an edit without an image, a JSON edit and an unparsable form, before upstream', async () => {
    const form = new FormData();
    form.append('model', 'gpt-image-1');
    form.append('prompt', 'x');
    const noImage = await fetch(`${h.url}/images/edits`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.app}` },
      body: form,
    });
    expect(noImage.status).toBe(400);
    expect(((await noImage.json()) as { error: { param: string } }).error.param).toBe('image');
    const json = await h.post('/images/edits', JSON.stringify({ model: 'gpt-image-1', prompt: 'x' }));
    expect(json.status).toBe(400);
    const broken = await h.post('/images/edits', '--nope\r\n', {
      'content-type': 'multipart/form-data; boundary=abc',
    });
    expect(broken.status).toBe(400);
    expect(h.fake.received).toBe(0);
  });

  it('refuses a JSON route a multipart body (415) and an upload over the limit (413)', async () => {
    const form = new FormData();
    form.append('model', 'gpt-4o-mini');
    const chat = await fetch(`${h.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.app}` },
      body: form,
    });
    expect(chat.status).toBe(415);
    const big = new FormData();
    big.append('model', 'gpt-image-1');
    big.append('prompt', 'x');
    big.append('image', new Blob([Buffer.alloc(27 * 1024 * 1024)], { type: 'image/png' }), 'big.png');
    const tooLarge = await fetch(`${h.url}/images/edits`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.app}` },
      body: big,
    });
    expect(tooLarge.status).toBe(413);
    expect(((await tooLarge.json()) as { error: { message: string } }).error.message).toContain(
      String(26 * 1024 * 1024),
    );
    expect(h.fake.received).toBe(0);
  });

  it('answers 404 to a client without the images family', async () => {
    const refused = await apiErrorOf(
      h.client(KEYS.limited).images.generate({ model: 'gpt-image-1', prompt: 'x' }),
    );
    expect(refused).toMatchObject({ status: 404, code: 'unknown_url' });
    const edit = await apiErrorOf(
      h
        .client(KEYS.limited)
        .images.edit({ model: 'gpt-image-1', prompt: 'x', image: await toFile(PNG, 'a.png') }),
    );
    expect(edit).toMatchObject({ status: 404, code: 'unknown_url' });
    expect(h.fake.received).toBe(0);
  });
});

describe('images and speech with the moderation pre-check on', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await GatewayHarness.start({ config: { models: MEDIA_MODELS, moderation: { enabled: true } } });
  });
  afterAll(() => h.stop());

  it('checks the prompt and the speech input before upstream bills anything', async () => {
    const image = await apiErrorOf(h.client().images.generate({ model: 'gpt-image-1', prompt: 'FLAG_ME' }));
    const speech = await apiErrorOf(
      h.client().audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'say FLAG_ME' }),
    );
    expect(image).toMatchObject({ status: 400, code: 'content_flagged' });
    expect(speech).toMatchObject({ status: 400, code: 'content_flagged' });
    expect(h.fake.requestsTo('/v1/moderations').map((r) => r.body.input)).toEqual(['FLAG_ME', 'say FLAG_ME']);
    expect(h.fake.billed).toHaveLength(0);
  });
});
