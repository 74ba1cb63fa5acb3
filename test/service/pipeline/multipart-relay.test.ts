/**
 * The multipart relay: bytes pass through unchanged however the body is chunked, fields and file sizes
 * are read on the way, the closing delimiter is held until validation passes, and a body past the cap,
 * a malformed body or a refused field fails the relay with the caller's error.
 */
import fc from 'fast-check';
import { GatewayError } from '../../../service/errors';
import {
  multipartBoundary,
  MultipartRelay,
  type MultipartParts,
} from '../../../service/pipeline/multipart-relay';

const BOUNDARY = '----formdata-test-0123';

function body(parts: ReadonlyArray<{ name: string; filename?: string; value: string | Buffer }>): Buffer {
  const pieces: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}`;
    const type = p.filename === undefined ? '' : 'Content-Type: application/octet-stream\r\n';
    pieces.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`));
    pieces.push(Buffer.from(p.value));
    pieces.push(Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(pieces);
}

/** Feeds `input` in `sizes`-sized chunks; resolves with what came out and the parts validated. */
async function relay(
  input: Buffer,
  sizes: readonly number[],
  options: { maxBytes?: number; validate?: (parts: MultipartParts) => void } = {},
): Promise<{ out: Buffer; parts?: MultipartParts; error?: GatewayError }> {
  let parts: MultipartParts | undefined;
  const r = new MultipartRelay({
    boundary: BOUNDARY,
    maxBytes: options.maxBytes ?? 1 << 20,
    validate: (p) => {
      parts = p;
      options.validate?.(p);
    },
  });
  const out: Buffer[] = [];
  r.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<GatewayError | undefined>((resolve) => {
    r.once('end', () => resolve(undefined));
    r.once('error', (e) => resolve(e as GatewayError));
  });
  let at = 0;
  for (let i = 0; at < input.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length] ?? 1);
    r.write(input.subarray(at, at + size));
    at += size;
  }
  r.end();
  const error = await done;
  return { out: Buffer.concat(out), ...(parts ? { parts } : {}), ...(error ? { error } : {}) };
}

describe('multipartBoundary', () => {
  it('reads quoted and bare boundaries of multipart/form-data only', () => {
    expect(multipartBoundary('multipart/form-data; boundary=abc')).toBe('abc');
    expect(multipartBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b"')).toBe('a b');
    expect(multipartBoundary('application/json')).toBeUndefined();
    expect(multipartBoundary('multipart/form-data')).toBeUndefined();
    expect(multipartBoundary(undefined)).toBeUndefined();
  });
});

describe('MultipartRelay', () => {
  const file = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 256));
  const input = body([
    { name: 'file', filename: 'a.bin', value: file },
    { name: 'purpose', value: 'batch' },
  ]);

  it('passes every byte through unchanged and reads the fields, however the body is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 8 }),
        async (sizes) => {
          const { out, parts, error } = await relay(input, sizes);
          expect(error).toBeUndefined();
          expect(out.equals(input)).toBe(true);
          expect(parts!.fields.get('purpose')).toBe('batch');
          expect(parts!.files).toEqual([
            { field: 'file', filename: 'a.bin', contentType: 'application/octet-stream', bytes: file.length },
          ]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('holds the closing delimiter until the fields are validated, and never sends it when they fail', async () => {
    const { out, error } = await relay(input, [4096], {
      validate: () => {
        throw new GatewayError(400, { message: 'no', type: 'invalid_request_error', param: 'purpose' });
      },
    });
    expect(error).toMatchObject({ status: 400, param: 'purpose' });
    expect(out.includes(Buffer.from(`--${BOUNDARY}--`))).toBe(false);
    expect(out.length).toBeGreaterThan(file.length);
  });

  it('fails with 413 past the cap', async () => {
    const { error } = await relay(input, [1000], { maxBytes: 3000 });
    expect(error).toMatchObject({ status: 413, code: 'request_too_large' });
  });

  it('fails with 400 on a body without its closing delimiter, or a part without a name', async () => {
    const cut = input.subarray(0, input.length - 10);
    expect((await relay(cut, [100])).error).toMatchObject({ status: 400 });
    const nameless = Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--${BOUNDARY}--\r\n`,
    );
    expect((await relay(nameless, [7])).error).toMatchObject({ status: 400 });
  });

  it('refuses a text field larger than its limit, naming it', async () => {
    const big = body([{ name: 'purpose', value: 'x'.repeat(70_000) }]);
    expect((await relay(big, [8192])).error).toMatchObject({ status: 400, param: 'purpose' });
  });
});
