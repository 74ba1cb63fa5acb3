/**
 * A `multipart/form-data` body streamed through to upstream, never buffered whole. As the caller's bytes
 * pass, it reads the small non-file fields, counts the file bytes and stops at a size cap; it forwards
 * every byte as it came except the closing delimiter, which it holds until the body is complete and its
 * fields are validated. Upstream therefore never sees a complete body that the gateway refuses (too
 * large, malformed, a bad field): the relay errors instead, and the upstream request is aborted
 * half-sent, so nothing is created. Reusable by any multipart endpoint (files, audio, image edits).
 */
import { randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { bodyTooLarge, GatewayError, invalidRequest } from '../errors';

/** A file part as the relay saw it pass. */
export interface MultipartFile {
  /** The form field's name, e.g. `file`. */
  readonly field: string;
  readonly filename: string;
  /** The part's `Content-Type`. @default none */
  readonly contentType?: string;
  readonly bytes: number;
}

/** The body's parts once it is complete: the text fields, and the files with their sizes. */
export interface MultipartParts {
  /** Every non-file field by name (a repeated name keeps its last value). */
  readonly fields: ReadonlyMap<string, string>;
  readonly files: readonly MultipartFile[];
  /** Bytes of the whole body. */
  readonly bytes: number;
}

export interface MultipartRelayOptions {
  /** The boundary from the caller's `Content-Type`. */
  readonly boundary: string;
  /** Most bytes of the whole body; past it the relay fails with 413. */
  readonly maxBytes: number;
  /** Checks the parts before the body's end goes upstream. @throws GatewayError to refuse the body */
  readonly validate: (parts: MultipartParts) => void | Promise<void>;
  /** Most bytes of one non-file field. @default 65536 */
  readonly maxFieldBytes?: number;
  /** Most parts in the body. @default 64 */
  readonly maxParts?: number;
}

/** Most bytes of one part's headers. */
const MAX_HEADER_BYTES = 16 * 1024;
const HEADERS_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** The boundary of a `multipart/form-data` content type, or undefined when it is not one. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

const malformed = (why: string) => invalidRequest(`The multipart/form-data body is malformed: ${why}.`);

interface Part {
  readonly field: string;
  readonly filename?: string;
  readonly contentType?: string;
  /** Field value bytes (non-file parts only). */
  readonly chunks: Buffer[];
  bytes: number;
}

/**
 * Reads multipart framing from a stream of chunks. The stream is scanned as if it began with CRLF, so
 * the first delimiter matches `CRLF--boundary` like every later one.
 */
export class MultipartScanner {
  /** Where the closing delimiter starts in the real stream, once seen. */
  closeAt: number | undefined;
  private state: 'preamble' | 'delimiter' | 'headers' | 'body' | 'done' = 'preamble';
  private carry: Buffer = CRLF;
  /** Stream position of `carry[0]` (the virtual CRLF sits at -2). */
  private offset = -2;
  private delimiterAt = 0;
  private part: Part | undefined;
  private readonly delimiter: Buffer;
  private readonly fields = new Map<string, string>();
  private readonly files: MultipartFile[] = [];
  private partCount = 0;
  private bytes = 0;

  constructor(
    boundary: string,
    private readonly limits: { readonly maxFieldBytes: number; readonly maxParts: number },
  ) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  /** Bytes the closing delimiter may need, at most: what a relay holds back while it is unseen. */
  get closeLength(): number {
    return this.delimiter.length + 2;
  }

  /** @throws GatewayError 400 when the framing is broken or a field is too large */
  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.state === 'done') return;
    let buf = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    let progressed = true;
    while (progressed && !this.finished) {
      const used = this.step(buf);
      progressed = used > 0;
      if (used > 0) {
        buf = buf.subarray(used);
        this.offset += used;
      }
    }
    this.carry = this.finished ? Buffer.alloc(0) : Buffer.from(buf);
  }

  /** The closing delimiter has been read. */
  get finished(): boolean {
    return this.state === 'done';
  }

  /** The parts of a complete body. @throws GatewayError 400 when the closing delimiter never came */
  end(): MultipartParts {
    if (this.state !== 'done') throw malformed('it ended before its closing boundary');
    return { fields: this.fields, files: this.files, bytes: this.bytes };
  }

  /** Consumes what it can of `buf` in the current state; 0 when it needs more bytes. */
  private step(buf: Buffer): number {
    switch (this.state) {
      case 'preamble':
        return this.findDelimiter(buf, () => undefined);
      case 'delimiter':
        return this.afterDelimiter(buf);
      case 'headers':
        return this.headers(buf);
      case 'body':
        return this.findDelimiter(buf, (bytes) => this.partBytes(bytes));
      default:
        return 0;
    }
  }

  /** Passes the bytes before the next delimiter to `take`, keeping a tail that may start one. */
  private findDelimiter(buf: Buffer, take: (bytes: Buffer) => void): number {
    const at = buf.indexOf(this.delimiter);
    if (at === -1) {
      const safe = Math.max(0, buf.length - (this.delimiter.length - 1));
      if (safe > 0) take(buf.subarray(0, safe));
      return safe;
    }
    take(buf.subarray(0, at));
    this.endPart();
    this.delimiterAt = this.offset + at;
    this.state = 'delimiter';
    return at + this.delimiter.length;
  }

  /** `--` closes the body; otherwise optional padding then CRLF opens a part's headers. */
  private afterDelimiter(buf: Buffer): number {
    if (buf.length < 2) return 0;
    if (buf[0] === 0x2d && buf[1] === 0x2d) {
      this.state = 'done';
      this.closeAt = Math.max(0, this.delimiterAt);
      return 2;
    }
    const eol = buf.indexOf(CRLF);
    if (eol === -1) {
      if (buf.length > 64) throw malformed('a boundary line is not followed by CRLF');
      return 0;
    }
    if (!/^[ \t]*$/.test(buf.subarray(0, eol).toString('latin1'))) {
      throw malformed('a boundary line carries more than the boundary');
    }
    if (++this.partCount > this.limits.maxParts)
      throw malformed(`it has more than ${this.limits.maxParts} parts`);
    this.state = 'headers';
    return eol + 2;
  }

  private headers(buf: Buffer): number {
    // A part with no headers at all starts with the blank line.
    const blankFirst = buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a;
    const end = blankFirst ? 0 : buf.indexOf(HEADERS_END);
    if (!blankFirst && end === -1) {
      if (buf.length > MAX_HEADER_BYTES) throw malformed('a part has headers larger than 16 KiB');
      return 0;
    }
    this.part = partOf(blankFirst ? '' : buf.subarray(0, end).toString('utf8'));
    this.state = 'body';
    return blankFirst ? 2 : end + HEADERS_END.length;
  }

  private partBytes(bytes: Buffer): void {
    const part = this.part!;
    part.bytes += bytes.length;
    if (part.filename !== undefined || bytes.length === 0) return;
    if (part.bytes > this.limits.maxFieldBytes) {
      throw invalidRequest(
        `The form field '${part.field}' is larger than ${this.limits.maxFieldBytes} bytes.`,
        part.field,
      );
    }
    part.chunks.push(Buffer.from(bytes));
  }

  private endPart(): void {
    const part = this.part;
    this.part = undefined;
    if (part === undefined) return;
    if (part.filename === undefined) {
      this.fields.set(part.field, Buffer.concat(part.chunks).toString('utf8'));
      return;
    }
    this.files.push({
      field: part.field,
      filename: part.filename,
      ...(part.contentType === undefined ? {} : { contentType: part.contentType }),
      bytes: part.bytes,
    });
  }
}

/** A part from its header block: `Content-Disposition: form-data; name=...; filename=...`. */
function partOf(headerBlock: string): Part {
  let disposition: string | undefined;
  let contentType: string | undefined;
  for (const line of headerBlock.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-disposition') disposition = value;
    else if (name === 'content-type') contentType = value;
  }
  if (disposition === undefined || !/^form-data\s*(;|$)/i.test(disposition)) {
    throw malformed('a part has no Content-Disposition: form-data header');
  }
  const param = (key: string) => {
    const m = new RegExp(`;\\s*${key}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]+))`, 'i').exec(disposition);
    return m === null ? undefined : (m[1]?.replace(/\\(.)/g, '$1') ?? m[2]);
  };
  const field = param('name');
  if (field === undefined) throw malformed('a part has no field name');
  const filename = param('filename');
  return {
    field,
    ...(filename === undefined ? {} : { filename }),
    ...(contentType === undefined ? {} : { contentType }),
    chunks: [],
    bytes: 0,
  };
}

/**
 * The relay: a Transform from the caller's body to the upstream request body. It fails (and so aborts
 * the upstream request) with the caller's error; `failure` keeps that error for the answer.
 */
export class MultipartRelay extends Transform {
  /** The error the relay failed with, once it has. */
  failure: GatewayError | undefined;
  /** A byte has gone upstream: the request can no longer be retried. */
  started = false;
  private readonly scanner: MultipartScanner;
  private received = 0;
  private forwarded = 0;
  private readonly held: Buffer[] = [];

  constructor(private readonly options: MultipartRelayOptions) {
    super();
    this.scanner = new MultipartScanner(options.boundary, {
      maxFieldBytes: options.maxFieldBytes ?? 64 * 1024,
      maxParts: options.maxParts ?? 64,
    });
  }

  /** Fails the relay with the caller's error `e` (the upstream request is aborted). */
  abort(e: GatewayError): void {
    this.destroy(this.fail(e));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.received += chunk.length;
    if (this.received > this.options.maxBytes)
      return callback(this.fail(bodyTooLarge(this.options.maxBytes)));
    try {
      this.scanner.push(chunk);
    } catch (err) {
      return callback(this.fail(err));
    }
    this.hold(chunk);
    // Forward all but what could be (or is) the closing delimiter and anything after it.
    const until = this.scanner.closeAt ?? this.received - this.scanner.closeLength;
    this.release(until);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    let parts: MultipartParts;
    try {
      parts = this.scanner.end();
    } catch (err) {
      return callback(this.fail(err));
    }
    Promise.resolve()
      .then(() => this.options.validate(parts))
      .then(
        () => {
          this.release(this.received);
          callback();
        },
        (err: unknown) => callback(this.fail(err)),
      );
  }

  private hold(chunk: Buffer): void {
    this.held.push(chunk);
  }

  /** Pushes the held bytes up to stream position `until`. */
  private release(until: number): void {
    while (this.held.length > 0 && this.forwarded < until) {
      const chunk = this.held[0];
      const take = Math.min(chunk.length, until - this.forwarded);
      if (take === chunk.length) this.held.shift();
      else this.held[0] = chunk.subarray(take);
      this.forwarded += take;
      this.started = true;
      this.push(take === chunk.length ? chunk : chunk.subarray(0, take));
    }
  }

  private fail(err: unknown): GatewayError {
    const e =
      err instanceof GatewayError ? err : malformed(err instanceof Error ? err.message : 'unreadable');
    this.failure ??= e;
    return this.failure;
  }
}

/** A whole multipart body the gateway builds itself (a file it uploads), and its content type. */
export function multipartBody(
  fields: Readonly<Record<string, string>>,
  file: {
    readonly field: string;
    readonly filename: string;
    readonly contentType: string;
    readonly content: Buffer;
  },
): { readonly body: Buffer; readonly contentType: string } {
  const boundary = `----gateway${randomBytes(12).toString('hex')}`;
  const pieces: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    pieces.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    );
  }
  pieces.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\n` +
        `Content-Type: ${file.contentType}\r\n\r\n`,
    ),
    file.content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { body: Buffer.concat(pieces), contentType: `multipart/form-data; boundary=${boundary}` };
}
