/**
 * Audio: `POST /v1/audio/speech` (JSON in; audio bytes out, streamed through, or SSE with
 * `stream_format: 'sse'`), `POST /v1/audio/transcriptions` and `/translations` (multipart in, the
 * audio as `file`; JSON, text, SRT, VTT or verbose JSON out, or SSE with `stream: true` on the
 * gpt-4o-transcribe class). Each model bills one way, from its price:
 *
 * - speech by the character (tts-1, `usdPer1MCharacters`): the input's characters, known up front;
 * - speech by tokens (gpt-4o-mini-tts, `speechTokensPerCharacter`): text in, audio out bounded by the
 *   input's characters at the slowest `speed` asked; metered from the SSE usage, else its worst case;
 * - transcription by the minute (whisper-1, `usdPerMinute`) or by tokens (`audioTokensPerSecond`):
 *   bounded by the longest the upload can play (its bytes over `limits.minAudioBytesPerSecond`);
 *   metered from the usage the answer reports (`type: 'tokens'` or `'duration'`, or a verbose answer's
 *   `duration`), else (text, SRT, VTT) at that worst case.
 *
 * The end-user id (`user`) is not an audio parameter: nothing is added. Not cached.
 */
import { DEFAULT_MIN_AUDIO_BYTES_PER_SECOND, type ModelPrice } from '../../runtime/gateway-config';
import { parseJsonObject } from '../../runtime/json';
import { readAudioUsage, type TokenUsage } from '../../runtime/pricing';
import { invalidRequest } from '../errors';
import { MultipartBody } from '../http/multipart';
import { SpeechStreamReader, TranscriptionStreamReader } from './audio-stream';
import { checkKnownParameters, objectBody, textTokens, type Body } from './fields';
import type { EndpointSpec, PrepareInput, PreparedCall } from './spec';

/** Most input characters of one speech call, as OpenAI allows. */
export const MAX_SPEECH_CHARACTERS = 4096;
/** The slowest `speed` OpenAI allows (it stretches the audio, and its tokens, by up to 4). */
export const MIN_SPEECH_SPEED = 0.25;
export const MAX_SPEECH_SPEED = 4;
/** Most transcript tokens one second of speech can produce (fast speech is about 4), on the safe side. */
export const TRANSCRIPT_TOKENS_PER_SECOND = 10;

const SPEECH_PARAMETERS: ReadonlySet<string> = new Set([
  'input',
  'model',
  'voice',
  'instructions',
  'response_format',
  'speed',
  'stream_format',
]);

const TRANSCRIPTION_PARAMETERS: ReadonlySet<string> = new Set([
  'file',
  'model',
  'chunking_strategy',
  'include',
  'known_speaker_names',
  'known_speaker_references',
  'language',
  'prompt',
  'response_format',
  'stream',
  'temperature',
  'timestamp_granularities',
]);

const TRANSLATION_PARAMETERS: ReadonlySet<string> = new Set([
  'file',
  'model',
  'prompt',
  'response_format',
  'temperature',
]);

function speechSpeed(body: Body): number {
  const speed = body.speed ?? 1;
  if (typeof speed !== 'number' || !(speed >= MIN_SPEECH_SPEED && speed <= MAX_SPEECH_SPEED)) {
    throw invalidRequest(
      `'speed' must be a number from ${MIN_SPEECH_SPEED} to ${MAX_SPEECH_SPEED}.`,
      'speed',
    );
  }
  return speed;
}

function speechStream(body: Body): boolean {
  const format = body.stream_format ?? 'audio';
  if (format !== 'audio' && format !== 'sse')
    throw invalidRequest("'stream_format' must be 'audio' or 'sse'.", 'stream_format');
  return format === 'sse';
}

/** What a speech call reserves, by characters or by tokens, from the model's price. */
function speechWorstCase(
  price: ModelPrice,
  body: Body,
  model: string,
): Pick<PreparedCall, 'promptTokens' | 'completionTokens' | 'billedCharacters' | 'audio'> {
  const input = body.input;
  if (typeof input !== 'string' || input === '')
    throw invalidRequest("'input' must be a non-empty string.", 'input');
  const characters = [...input].length;
  if (characters > MAX_SPEECH_CHARACTERS) {
    throw invalidRequest(
      `'input' has ${characters} characters; at most ${MAX_SPEECH_CHARACTERS} are allowed.`,
      'input',
    );
  }
  if (body.instructions !== undefined && typeof body.instructions !== 'string')
    throw invalidRequest("'instructions' must be a string.", 'instructions');
  // Each piece rounds up on its own, as a tokenizer counts it.
  const instructions = body.instructions ?? '';
  const textIn =
    textTokens(Buffer.byteLength(input)) +
    (instructions === '' ? 0 : textTokens(Buffer.byteLength(instructions)));
  if (price.usdPer1MCharacters !== undefined) {
    return { promptTokens: textIn, completionTokens: 0, billedCharacters: characters };
  }
  if (price.speechTokensPerCharacter === undefined || price.audioOutputUsdPer1M === undefined) {
    throw invalidRequest(`The model '${model}' does not generate speech on this gateway.`, 'model');
  }
  const audioOut = Math.ceil((characters * price.speechTokensPerCharacter) / speechSpeed(body));
  return { promptTokens: textIn, completionTokens: audioOut, audio: true };
}

function prepareSpeech({ policy, client, body: raw }: PrepareInput): PreparedCall {
  const body = objectBody(raw);
  checkKnownParameters(body, SPEECH_PARAMETERS, policy.config.limits);
  const { requestedModel, model } = policy.models.resolve(client, body.model);
  if (body.voice === undefined || body.voice === null) throw invalidRequest("'voice' is required.", 'voice');
  speechSpeed(body);
  const stream = speechStream(body);
  return {
    spec: speech,
    requestedModel,
    model,
    body: { ...body, model },
    stream,
    binaryAnswer: !stream,
    callerWantsUsage: false,
    ...speechWorstCase(policy.config.models[model], body, model),
    deterministic: false,
  };
}

/** What a transcription or translation reserves for an upload of `bytes`. */
function transcriptionWorstCase(
  price: ModelPrice,
  input: {
    readonly bytes: number;
    readonly prompt: string;
    readonly model: string;
    readonly minBytesPerSecond: number;
  },
): Pick<PreparedCall, 'promptTokens' | 'completionTokens' | 'billedSeconds' | 'audio'> {
  const seconds = Math.max(1, Math.ceil(input.bytes / input.minBytesPerSecond));
  const transcript = seconds * TRANSCRIPT_TOKENS_PER_SECOND;
  const promptTokens = input.prompt === '' ? 0 : textTokens(Buffer.byteLength(input.prompt));
  // Billed by the minute: tokens are not what it costs, nor what OpenAI limits it by (requests).
  if (price.usdPerMinute !== undefined) return { promptTokens, completionTokens: 0, billedSeconds: seconds };
  if (price.audioTokensPerSecond === undefined || price.audioInputUsdPer1M === undefined) {
    throw invalidRequest(`The model '${input.model}' does not transcribe audio on this gateway.`, 'model');
  }
  return {
    promptTokens: promptTokens + Math.ceil(seconds * price.audioTokensPerSecond),
    completionTokens: transcript,
    audio: true,
  };
}

interface UploadSpec {
  readonly spec: EndpointSpec;
  readonly known: ReadonlySet<string>;
  readonly streams: boolean;
}

function prepareUpload(input: PrepareInput, { spec, known, streams }: UploadSpec): PreparedCall {
  const form = input.body;
  if (!(form instanceof MultipartBody)) {
    throw invalidRequest("Send the body as 'multipart/form-data', with the audio as 'file'.");
  }
  const { policy, client } = input;
  const body = form.toRecord();
  const names = [...Object.keys(body), ...form.files.map((f) => f.field)].map((n) =>
    n.replace(/(\[.*\])$/, ''),
  );
  checkKnownParameters(Object.fromEntries(names.map((n) => [n, true])), known, policy.config.limits);
  const files = form.filesOf('file');
  if (files.length !== 1) throw invalidRequest("'file' must be one audio file.", 'file');
  const { requestedModel, model } = policy.models.resolve(client, body.model);
  const streamField = form.field('stream');
  if (streamField !== undefined && streamField !== 'true' && streamField !== 'false')
    throw invalidRequest("'stream' must be a boolean.", 'stream');
  const stream = streams && streamField === 'true';
  const reserved = transcriptionWorstCase(policy.config.models[model], {
    bytes: files[0].data.length,
    prompt: form.field('prompt') ?? '',
    model,
    minBytesPerSecond: policy.config.limits.minAudioBytesPerSecond ?? DEFAULT_MIN_AUDIO_BYTES_PER_SECOND,
  });
  return {
    spec,
    requestedModel,
    model,
    body: { ...body, model },
    stream,
    callerWantsUsage: false,
    ...reserved,
    deterministic: false,
    files: form.files,
  };
}

/**
 * The usage of a transcription answer: its `usage` (tokens or duration), else a verbose answer's
 * `duration` on a per-minute model; undefined for text, SRT and VTT, which report nothing.
 */
function transcriptionUsageOfJson(text: string, prepared: PreparedCall): TokenUsage | undefined {
  const answer = parseJsonObject(text);
  if (answer === undefined) return undefined;
  if (answer.usage !== undefined) return readAudioUsage(answer.usage);
  if (prepared.billedSeconds !== undefined && typeof answer.duration === 'number')
    return readAudioUsage({ type: 'duration', seconds: answer.duration });
  return undefined;
}

export const speech: EndpointSpec = {
  name: 'audio.speech',
  family: 'audio',
  route: '/v1/audio/speech',
  upstreamPath: '/audio/speech',
  knownParameters: SPEECH_PARAMETERS,
  prepare: prepareSpeech,
  // Audio bytes carry no usage: the call is charged its worst case (see `binaryAnswer`).
  usageOfJson: () => undefined,
  moderationInput: (body) => [body.instructions, body.input].filter((t) => typeof t === 'string').join('\n'),
  streamReader: () => new SpeechStreamReader(),
};

export const transcriptions: EndpointSpec = {
  name: 'audio.transcriptions',
  family: 'audio',
  route: '/v1/audio/transcriptions',
  upstreamPath: '/audio/transcriptions',
  multipart: true,
  knownParameters: TRANSCRIPTION_PARAMETERS,
  prepare: (input) =>
    prepareUpload(input, { spec: transcriptions, known: TRANSCRIPTION_PARAMETERS, streams: true }),
  usageOfJson: transcriptionUsageOfJson,
  streamReader: () => new TranscriptionStreamReader(),
};

export const translations: EndpointSpec = {
  name: 'audio.translations',
  family: 'audio',
  route: '/v1/audio/translations',
  upstreamPath: '/audio/translations',
  multipart: true,
  knownParameters: TRANSLATION_PARAMETERS,
  prepare: (input) =>
    prepareUpload(input, { spec: translations, known: TRANSLATION_PARAMETERS, streams: false }),
  usageOfJson: transcriptionUsageOfJson,
};
