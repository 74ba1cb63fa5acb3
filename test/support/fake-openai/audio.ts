/**
 * Audio: `POST /v1/audio/speech` (JSON in; audio bytes out, or SSE `speech.audio.delta` events and
 * `speech.audio.done` with the usage on the token-billed models), `POST /v1/audio/transcriptions` and
 * `/translations` (multipart, the audio as `file`; JSON, text, SRT, VTT or verbose JSON out; SSE
 * `transcript.text.delta` events and `transcript.text.done` with the usage when a gpt-4o-transcribe
 * model streams). What the fake bills:
 *
 * - tts-1 and tts-1-hd by the input character (recorded in `billed[].characters`);
 * - gpt-4o-mini-tts by tokens: the input and instructions as text, SPEECH_TOKENS_PER_CHARACTER audio
 *   tokens per character at speed 1 (more at a slower speed);
 * - whisper-1 by the second of audio (`billed[].seconds`), the audio lasting AUDIO_BYTES_PER_SECOND a
 *   second of its file;
 * - the gpt-4o-transcribe models by tokens: AUDIO_TOKENS_PER_SECOND audio tokens a second, the
 *   prompt as text, the transcript as output.
 */
import { cutConnection, openSse, sendError, writeSse } from './http';
import { refuseUnknownFormField, refuseUnknownParameter } from './parameters';
import type { BilledEndpoint, Endpoint, EndpointContext } from './types';
import { countTokens, usageOf } from './usage';

export const SPEECH_TOKENS_PER_CHARACTER = 1.2;
/** The fake's audio plays at 128 kbit/s. */
export const AUDIO_BYTES_PER_SECOND = 16_000;
export const AUDIO_TOKENS_PER_SECOND = 10;

const PER_CHARACTER_SPEECH = new Set(['tts-1', 'tts-1-hd']);
const TOKEN_SPEECH = new Set(['gpt-4o-mini-tts']);
const PER_MINUTE_TRANSCRIPTION = new Set(['whisper-1']);
const TOKEN_TRANSCRIPTION = new Set(['gpt-4o-transcribe', 'gpt-4o-mini-transcribe']);

const AUDIO_TYPES: Readonly<Record<string, string>> = {
  mp3: 'audio/mpeg',
  opus: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};

/** Bytes of speech for `characters` of input at `speed`: 1 KiB per 10 characters at speed 1. */
const speechBytes = (characters: number, speed: number): number => Math.ceil((characters * 100) / speed);

/** What the fake bills for a speech body; a string names the param at fault. */
export function speechBillOf(
  body: Record<string, unknown>,
): { readonly usage: ReturnType<typeof usageOf>; readonly characters?: number } | string {
  const input = body.input;
  if (typeof input !== 'string' || input === '') return 'input';
  if (typeof body.voice !== 'string' && typeof body.voice !== 'object') return 'voice';
  const model = String(body.model);
  const speed = typeof body.speed === 'number' ? body.speed : 1;
  if (speed < 0.25 || speed > 4) return 'speed';
  const characters = [...input].length;
  if (PER_CHARACTER_SPEECH.has(model)) {
    if (body.stream_format === 'sse') return 'stream_format';
    return { usage: usageOf(0, 0), characters };
  }
  if (!TOKEN_SPEECH.has(model)) return 'model';
  const text =
    countTokens(input) +
    (typeof body.instructions === 'string' && body.instructions !== '' ? countTokens(body.instructions) : 0);
  const audio = Math.ceil((characters * SPEECH_TOKENS_PER_CHARACTER) / speed);
  const base = usageOf(text, audio);
  return {
    usage: { ...base, completion_tokens_details: { ...base.completion_tokens_details, audio_tokens: audio } },
  };
}

async function speech(ctx: EndpointContext): Promise<void> {
  const { res } = ctx;
  const body = ctx.request.body as Record<string, unknown> | undefined;
  if (refuseUnknownParameter(res, body, 'audio.speech')) return;
  const bill = speechBillOf(body ?? {});
  if (typeof bill === 'string') return sendError(res, 400, `Invalid value for '${bill}'.`, { param: bill });
  ctx.bill({ model: String(body!.model), endpoint: 'audio.speech', ...bill });
  const characters = [...String(body!.input)].length;
  const audio = Buffer.alloc(speechBytes(characters, typeof body!.speed === 'number' ? body!.speed : 1), 7);
  if (body!.stream_format === 'sse') {
    if (!openSse(res)) return;
    for (let at = 0; at < audio.length; at += 4096) {
      const delta = { type: 'speech.audio.delta', audio: audio.subarray(at, at + 4096).toString('base64') };
      writeSse(res, delta);
    }
    const { prompt_tokens: input_tokens, completion_tokens: output_tokens } = bill.usage;
    writeSse(res, {
      type: 'speech.audio.done',
      usage: { input_tokens, output_tokens, total_tokens: input_tokens + output_tokens },
    });
    res.end();
    return;
  }
  if (res.destroyed) return;
  const format = typeof body!.response_format === 'string' ? body!.response_format : 'mp3';
  res.writeHead(200, { 'content-type': AUDIO_TYPES[format] ?? 'audio/mpeg', 'transfer-encoding': 'chunked' });
  for (let at = 0, chunk = 0; at < audio.length; at += 16_384, chunk++) {
    if (ctx.scripted.cutAfterChunks !== undefined && chunk >= ctx.scripted.cutAfterChunks) {
      ctx.markCut();
      return cutConnection(res);
    }
    res.write(audio.subarray(at, at + 16_384));
  }
  res.end();
}

/** Seconds the fake's audio of `bytes` plays, at least 1. */
export const audioSeconds = (bytes: number): number => Math.max(1, Math.ceil(bytes / AUDIO_BYTES_PER_SECOND));

/** What the fake bills for a transcription or translation of `bytes` of audio; a string names the param at fault. */
export function transcriptionBillOf(
  fields: Record<string, unknown>,
  bytes: number,
):
  { readonly usage: ReturnType<typeof usageOf>; readonly seconds?: number; readonly wire: unknown } | string {
  const model = String(fields.model);
  const seconds = audioSeconds(bytes);
  if (PER_MINUTE_TRANSCRIPTION.has(model)) {
    if (fields.stream === 'true') return 'stream';
    return { usage: usageOf(0, 0), seconds, wire: { type: 'duration', seconds } };
  }
  if (!TOKEN_TRANSCRIPTION.has(model)) return 'model';
  const format = fields.response_format ?? 'json';
  if (format !== 'json' && format !== 'text') return 'response_format';
  const text = typeof fields.prompt === 'string' && fields.prompt !== '' ? countTokens(fields.prompt) : 0;
  const audio = seconds * AUDIO_TOKENS_PER_SECOND;
  const output = countTokens(TRANSCRIPT);
  const base = usageOf(text + audio, output);
  return {
    usage: { ...base, prompt_tokens_details: { ...base.prompt_tokens_details, audio_tokens: audio } },
    wire: {
      type: 'tokens',
      input_tokens: text + audio,
      input_token_details: { text_tokens: text, audio_tokens: audio },
      output_tokens: output,
      total_tokens: text + audio + output,
    },
  };
}

/** What every transcription and translation says. */
export const TRANSCRIPT = 'The quick brown fox jumps over the lazy dog.';

const SUBTITLES: Readonly<Record<string, string>> = {
  srt: `1\n00:00:00,000 --> 00:00:02,000\n${TRANSCRIPT}\n`,
  vtt: `WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n${TRANSCRIPT}\n`,
};

function sendText(ctx: EndpointContext, text: string): void {
  if (ctx.res.destroyed) return;
  ctx.res.writeHead(200, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  ctx.res.end(text);
}

async function upload(ctx: EndpointContext, endpoint: BilledEndpoint): Promise<void> {
  const { res } = ctx;
  const translate = endpoint === 'audio.translations';
  const form = ctx.request.form;
  if (!form) return sendError(res, 400, "Missing required parameter: 'file'.", { param: 'file' });
  const names = [...Object.keys(form.fields), ...form.files.map((f) => f.field)];
  if (refuseUnknownFormField(res, names, translate ? 'audio.translations' : 'audio.transcriptions')) return;
  const file = form.files.find((f) => f.field === 'file');
  if (!file) return sendError(res, 400, "Missing required parameter: 'file'.", { param: 'file' });
  if (translate && form.fields.model !== 'whisper-1')
    return sendError(res, 400, 'Invalid model.', { param: 'model' });
  const bill = transcriptionBillOf(form.fields, file.data.length);
  if (typeof bill === 'string') return sendError(res, 400, `Invalid value for '${bill}'.`, { param: bill });
  ctx.bill({
    model: String(form.fields.model),
    endpoint,
    usage: bill.usage,
    ...(bill.seconds ? { seconds: bill.seconds } : {}),
  });
  const format = String(form.fields.response_format ?? 'json');
  const usage = translate ? {} : { usage: bill.wire };
  if (form.fields.stream === 'true') {
    if (!openSse(res)) return;
    for (const [i, word] of TRANSCRIPT.split(' ').entries()) {
      if (ctx.scripted.cutAfterChunks !== undefined && i >= ctx.scripted.cutAfterChunks) {
        // What was written reaches the client, then the connection drops (the audio was billed).
        ctx.markCut();
        return cutConnection(res);
      }
      writeSse(res, { type: 'transcript.text.delta', delta: `${word} ` });
    }
    writeSse(res, { type: 'transcript.text.done', text: TRANSCRIPT, ...usage });
    res.end();
    return;
  }
  if (format === 'text') return sendText(ctx, TRANSCRIPT);
  if (SUBTITLES[format] !== undefined) return sendText(ctx, SUBTITLES[format]);
  const seconds = audioSeconds(file.data.length);
  const answer =
    format === 'verbose_json'
      ? {
          task: translate ? 'translate' : 'transcribe',
          language: 'english',
          duration: seconds,
          text: TRANSCRIPT,
          segments: [],
          ...usage,
        }
      : { text: TRANSCRIPT, ...usage };
  const text = JSON.stringify(answer);
  if (res.destroyed) return;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export const audioEndpoints: readonly Endpoint[] = [
  { method: 'POST', path: '/v1/audio/speech', handle: speech, billsWhenAbandoned: true },
  {
    method: 'POST',
    path: '/v1/audio/transcriptions',
    handle: (ctx) => upload(ctx, 'audio.transcriptions'),
    billsWhenAbandoned: true,
  },
  {
    method: 'POST',
    path: '/v1/audio/translations',
    handle: (ctx) => upload(ctx, 'audio.translations'),
    billsWhenAbandoned: true,
  },
];
