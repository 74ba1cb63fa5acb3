/**
 * The Files API through the gateway with the official openai SDK: uploads streamed through (never
 * buffered whole, capped in size, fields checked before the body's end goes upstream), lists of the
 * caller's own files only (across pages, cursor included), retrieve, content and delete, each 404 to any
 * other client.
 */
import { Readable } from 'node:stream';
import { toFile } from 'openai';
import { apiErrorOf } from '../../support/refusal';
import { GatewayHarness, KEYS } from '../../support/gateway-harness';

const MAX_UPLOAD = 256 * 1024;

describe('the Files API through the gateway', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await GatewayHarness.start({ config: { limits: { maxUploadBytes: MAX_UPLOAD } } });
  });
  afterAll(() => h.stop());
  afterEach(() => h.fake.reset());

  const upload = async (content: string | Buffer, key: string = KEYS.app, name = 'input.jsonl') =>
    h.client(key).files.create({ file: await toFile(Buffer.from(content), name), purpose: 'batch' });

  it('uploads a file through to upstream, byte for byte, and answers its file object', async () => {
    const content = '{"custom_id":"a"}\n'.repeat(50);
    const file = await upload(content);
    expect(file).toMatchObject({
      object: 'file',
      purpose: 'batch',
      filename: 'input.jsonl',
      bytes: content.length,
    });
    expect(h.fake.files.files.get(file.id)?.content.toString()).toBe(content);
    expect(h.fake.requestsTo('/v1/files')[0].apiKey).not.toBe(KEYS.app);
  });

  it('reads the file back: retrieve and content, streamed binary included', async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 256));
    const file = await h
      .client()
      .files.create({ file: await toFile(bytes, 'blob.bin'), purpose: 'user_data' });
    expect(await h.client().files.retrieve(file.id)).toMatchObject({ id: file.id, bytes: bytes.length });
    const content = await h.client().files.content(file.id);
    expect(content.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await content.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('answers 404 not_found to every other client, as for a file that does not exist', async () => {
    const file = await upload('{"x":1}\n');
    const other = h.client(KEYS.other);
    for (const call of [
      other.files.retrieve(file.id),
      other.files.content(file.id),
      other.files.delete(file.id),
      h.client().files.retrieve('file-doesnotexist'),
    ]) {
      expect(await apiErrorOf(call)).toMatchObject({ status: 404, code: 'not_found' });
    }
    expect(h.fake.files.files.has(file.id)).toBe(true);
    expect(h.fake.requests.filter((r) => r.path.startsWith(`/v1/files/`))).toHaveLength(0);
  });

  it('deletes the file, after which it is gone for its owner too', async () => {
    const file = await upload('{"x":1}\n');
    expect(await h.client().files.delete(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });
    expect(h.fake.files.files.has(file.id)).toBe(false);
    expect(await apiErrorOf(h.client().files.retrieve(file.id))).toMatchObject({
      status: 404,
      code: 'not_found',
    });
  });

  it("lists only the caller's files, across pages, and refuses someone else's file as a cursor", async () => {
    const mine: string[] = [];
    const theirs: string[] = [];
    for (let i = 0; i < 5; i++) {
      mine.push((await upload(`mine ${i}`)).id);
      theirs.push((await upload(`theirs ${i}`, KEYS.other)).id);
    }
    const seen: string[] = [];
    for await (const file of h.client().files.list({ limit: 2, order: 'asc' })) seen.push(file.id);
    expect(seen).toEqual(mine);
    const page = await h.client().files.list({ limit: 2, order: 'asc' });
    expect(page.data.map((f) => f.id)).toEqual(mine.slice(0, 2));
    expect(page.has_more).toBe(true);
    const err = await apiErrorOf(h.client().files.list({ after: theirs[0] }));
    expect(err).toMatchObject({ status: 404, code: 'not_found', param: 'after' });
    const all = await h.client(KEYS.other).files.list({ purpose: 'batch' });
    expect(all.data.map((f) => f.id).sort()).toEqual([...theirs].sort());
  });

  it('refuses a bad purpose with 400 before the body ends upstream: nothing is created', async () => {
    const err = await apiErrorOf(
      h.client().files.create({
        file: await toFile(Buffer.from('x'), 'a.txt'),
        purpose: 'nonsense' as 'batch',
      }),
    );
    expect(err).toMatchObject({ status: 400, param: 'purpose', code: 'invalid_value' });
    expect(h.fake.files.files.size).toBe(0);
    expect(h.fake.files.uploads.every((u) => !u.complete)).toBe(true);
  });

  it('answers 413 past the size cap and aborts the upload upstream: the fake saw no complete upload', async () => {
    const err = await apiErrorOf(upload(Buffer.alloc(MAX_UPLOAD + 1024, 97)));
    expect(err).toMatchObject({ status: 413, code: 'request_too_large' });
    expect(h.fake.files.files.size).toBe(0);
    expect(h.fake.files.uploads.every((u) => !u.complete)).toBe(true);
    // The connection stays usable for the next call.
    expect((await upload('small')).object).toBe('file');
  });

  it('answers 413 past the cap when the body comes chunked, with no length declared', async () => {
    const boundary = 'gwtestboundary';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n`;
    const chunks = async function* () {
      yield Buffer.from(head);
      for (let sent = 0; sent <= MAX_UPLOAD; sent += 16 * 1024) yield Buffer.alloc(16 * 1024, 98);
      yield Buffer.from(`\r\n--${boundary}--\r\n`);
    };
    const res = await fetch(`${h.url}/files`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEYS.app}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
      body: Readable.toWeb(Readable.from(chunks())) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
    expect(h.fake.files.files.size).toBe(0);
  });

  it('streams the upload through: upstream has bytes before the caller has sent its last one', async () => {
    const boundary = 'gwstreamboundary';
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const chunks = async function* () {
      yield Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n`,
      );
      yield Buffer.alloc(64 * 1024, 99);
      await held; // the rest waits until upstream has seen the first part
      yield Buffer.alloc(64 * 1024, 99);
      yield Buffer.from(`\r\n--${boundary}--\r\n`);
    };
    const answer = fetch(`${h.url}/files`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEYS.app}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
      body: Readable.toWeb(Readable.from(chunks())) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    await h.fake.waitFor(() => (h.fake.files.uploads[0]?.bytes ?? 0) >= 64 * 1024);
    expect(h.fake.files.uploads[0].complete).toBe(false);
    release();
    const res = await answer;
    expect(res.status).toBe(200);
    const file = (await res.json()) as { id: string; bytes: number };
    expect(file.bytes).toBe(128 * 1024);
    expect(h.fake.files.uploads[0].complete).toBe(true);
  });

  it('answers 502 when upstream fails an upload, without retrying a body already sent', async () => {
    h.fake.enqueue({ path: '/v1/files', status: 500 }, { path: '/v1/files', status: 500 });
    expect(await apiErrorOf(upload('x'.repeat(10_000)))).toMatchObject({ status: 502 });
    expect(h.fake.requestsTo('/v1/files')).toHaveLength(1);
  });

  it('refuses a body that is not multipart, and a client without the files family gets 404', async () => {
    const res = await h.post('/files', '{"purpose":"batch"}');
    expect(res.status).toBe(415);
    // Multipart goes to the upload routes only: elsewhere it is a type the route does not take.
    const chat = await h.post('/chat/completions', '--x--\r\n', {
      'content-type': 'multipart/form-data; boundary=x',
    });
    expect(chat.status).toBe(415);
    expect(((await chat.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    const err = await apiErrorOf(upload('x', KEYS.limited));
    expect(err).toMatchObject({ status: 404 });
    expect(h.fake.files.uploads).toHaveLength(0);
  });
});

describe('an upload that stalls', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await GatewayHarness.start({ config: { upstream: { timeoutMs: 200 } } });
  });
  afterAll(() => h.stop());

  it('is cut after upstream.timeoutMs without a byte (408), and creates nothing upstream', async () => {
    const boundary = 'gwstallboundary';
    let release!: () => void;
    const never = new Promise<void>((resolve) => (release = resolve));
    const chunks = async function* () {
      yield Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\nabc`,
      );
      await never;
    };
    const res = await fetch(`${h.url}/files`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEYS.app}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
      body: Readable.toWeb(Readable.from(chunks())) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    release();
    expect(res.status).toBe(408);
    expect(h.fake.files.files.size).toBe(0);
    expect(h.fake.files.uploads.every((u) => !u.complete)).toBe(true);
  });
});
