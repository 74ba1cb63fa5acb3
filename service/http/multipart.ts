/**
 * Multipart bodies (`multipart/form-data`: image edits, audio transcriptions and translations), read
 * whole and forwarded with the same parts. The body is buffered up to `limits.maxFormBytes` (Fastify's
 * parser limit) and parsed by undici's `Response.formData()`; the upstream form is encoded here, in
 * the order the caller sent the parts. The one place that knows the wire format, so the parsing can move
 * onto a streamed relay later.
 */
import { randomBytes } from 'node:crypto';

/** One file part of a multipart body. */
export interface UploadedFile {
  /** The form field, e.g. `image[]` or `file`. */
  readonly field: string;
  readonly filename: string;
  readonly contentType: string;
  readonly data: Buffer;
}

/** A parsed multipart body: its text fields (repeated ones in order) and its files. */
export class MultipartBody {
  constructor(
    /** Text fields by name; a field sent more than once (`include[]`) keeps every value in order. */
    readonly fields: ReadonlyMap<string, readonly string[]>,
    readonly files: readonly UploadedFile[],
  ) {}

  /** The value of a field sent once, or undefined; the last value of a field sent more than once. */
  field(name: string): string | undefined {
    const values = this.fields.get(name);
    return values?.[values.length - 1];
  }

  /** The files of one field (or of `name[]`, as the openai SDK names an array). */
  filesOf(name: string): readonly UploadedFile[] {
    return this.files.filter((f) => f.field === name || f.field === `${name}[]`);
  }

  /** Every byte the files hold. */
  get fileBytes(): number {
    return this.files.reduce((sum, f) => sum + f.data.length, 0);
  }

  /** The text fields as a body record: one value a string, repeated values an array. */
  toRecord(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const [name, values] of this.fields) out[name] = values.length === 1 ? values[0] : [...values];
    return out;
  }
}

/**
 * Parses a buffered `multipart/form-data` body.
 * @throws Error when the body does not follow its boundary (the HTTP layer answers 400)
 */
export async function parseMultipart(body: Buffer, contentType: string): Promise<MultipartBody> {
  const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  const fields = new Map<string, string[]>();
  const files: UploadedFile[] = [];
  for (const [name, value] of form) {
    if (typeof value === 'string') {
      const values = fields.get(name);
      if (values) values.push(value);
      else fields.set(name, [value]);
      continue;
    }
    files.push({
      field: name,
      filename: value.name,
      contentType: value.type || 'application/octet-stream',
      data: Buffer.from(await value.arrayBuffer()),
    });
  }
  return new MultipartBody(fields, files);
}

/** A form field name or file name as a quoted header parameter (quotes and line ends escaped). */
const quoted = (s: string): string =>
  `"${s.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}"`;

/** An encoded multipart form: the bytes to send and their content type (with the boundary). */
export interface EncodedForm {
  readonly payload: Buffer;
  readonly contentType: string;
}

/**
 * Encodes `fields` (a string, or strings for a repeated field; other values are skipped) then `files`
 * as one `multipart/form-data` body.
 */
export function encodeMultipart(
  fields: Readonly<Record<string, unknown>>,
  files: readonly UploadedFile[],
): EncodedForm {
  const boundary = `----gateway-${randomBytes(12).toString('hex')}`;
  const parts: Buffer[] = [];
  const head = (text: string) => parts.push(Buffer.from(`--${boundary}\r\n${text}\r\n\r\n`, 'utf8'));
  for (const [name, value] of Object.entries(fields)) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (typeof v !== 'string') continue;
      head(`Content-Disposition: form-data; name=${quoted(name)}`);
      parts.push(Buffer.from(`${v}\r\n`, 'utf8'));
    }
  }
  for (const file of files) {
    head(
      `Content-Disposition: form-data; name=${quoted(file.field)}; filename=${quoted(file.filename)}\r\n` +
        `Content-Type: ${file.contentType.replace(/[\r\n]/g, '')}`,
    );
    parts.push(file.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}
