import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { createRequestPolicy } from '../../../service/endpoints';
import { speech, transcriptions, translations } from '../../../service/endpoints/audio';
import { SpeechStreamReader, TranscriptionStreamReader } from '../../../service/endpoints/audio-stream';
import { MultipartBody } from '../../../service/http/multipart';
import { testConfigDocument } from '../../support/gateway-harness';
import { MEDIA_MODELS } from '../../support/media-config';
import { refusalOf } from '../../support/refusal';

const config = parseGatewayConfig(
  testConfigDocument({ models: MEDIA_MODELS, limits: { minAudioBytesPerSecond: 1000 } }),
);
const policy = createRequestPolicy(config);
const client = { id: 'app' };

const upload = (model: string, bytes: number, extra: Record<string, string> = {}) =>
  new MultipartBody(
    new Map([['model', [model]], ...Object.entries(extra).map(([k, v]) => [k, [v]] as [string, string[]])]),
    [{ field: 'file', filename: 'a.mp3', contentType: 'audio/mpeg', data: Buffer.alloc(bytes) }],
  );

describe('speech spec', () => {
  it('bills a per-character model its characters, exactly, as bytes', () => {
    const prepared = speech.prepare({
      policy,
      client,
      body: { model: 'tts-1', voice: 'alloy', input: 'héllo' },
    });
    expect(prepared).toMatchObject({
      billedCharacters: 5,
      completionTokens: 0,
      binaryAnswer: true,
      stream: false,
    });
  });

  it('reserves a token model audio for every character at the speed asked, and streams with SSE', () => {
    const body = {
      model: 'gpt-4o-mini-tts',
      voice: 'alloy',
      input: 'x'.repeat(100),
      speed: 0.5,
      stream_format: 'sse',
    };
    const prepared = speech.prepare({ policy, client, body });
    expect(prepared).toMatchObject({ completionTokens: 400, audio: true, stream: true, binaryAnswer: false });
  });

  it('refuses a model without a speech price', () => {
    const e = refusalOf(() =>
      speech.prepare({ policy, client, body: { model: 'whisper-1', voice: 'a', input: 'x' } }),
    );
    expect(e.param).toBe('model');
  });
});

describe('transcription and translation specs', () => {
  it('bounds the duration by the upload size over the configured floor', () => {
    const perMinute = transcriptions.prepare({ policy, client, body: upload('whisper-1', 10_500) });
    expect(perMinute).toMatchObject({ billedSeconds: 11, completionTokens: 0, stream: false });
    expect(perMinute.files).toHaveLength(1);
    const tokens = transcriptions.prepare({
      policy,
      client,
      body: upload('gpt-4o-transcribe', 10_000, { stream: 'true', prompt: 'abc' }),
    });
    expect(tokens).toMatchObject({
      promptTokens: 1 + 10 * 20,
      completionTokens: 100,
      audio: true,
      stream: true,
    });
  });

  it('never streams a translation, and refuses a JSON body, a missing file and a bad stream flag', () => {
    expect(translations.prepare({ policy, client, body: upload('whisper-1', 10) }).stream).toBe(false);
    expect(
      refusalOf(() => transcriptions.prepare({ policy, client, body: { model: 'whisper-1' } })).status,
    ).toBe(400);
    const noFile = new MultipartBody(new Map([['model', ['whisper-1']]]), []);
    expect(refusalOf(() => transcriptions.prepare({ policy, client, body: noFile })).param).toBe('file');
    const badStream = upload('gpt-4o-transcribe', 10, { stream: 'yes' });
    expect(refusalOf(() => transcriptions.prepare({ policy, client, body: badStream })).param).toBe('stream');
  });

  it('reads a duration, tokens, or a verbose duration; nothing from a text answer', () => {
    const perMinute = transcriptions.prepare({ policy, client, body: upload('whisper-1', 10) });
    const read = (text: string) => transcriptions.usageOfJson(text, perMinute);
    expect(read('{"text":"x","usage":{"type":"duration","seconds":3}}')).toMatchObject({ seconds: 3 });
    expect(read('{"text":"x","duration":7.5}')).toMatchObject({ seconds: 7.5 });
    expect(read('plain transcript')).toBeUndefined();
    expect(read('{"text":"x"}')).toBeUndefined();
    expect(
      read(
        '{"text":"x","usage":{"type":"tokens","input_tokens":9,"input_token_details":{"audio_tokens":8},"output_tokens":2}}',
      ),
    ).toMatchObject({ prompt_tokens: 9, prompt_tokens_details: { audio_tokens: 8 } });
  });
});

describe('audio stream readers', () => {
  it('ends a speech stream at speech.audio.done, its output all audio', () => {
    const reader = new SpeechStreamReader();
    reader.frame('data: {"type":"speech.audio.delta","audio":"AAA="}');
    expect(reader.done).toBe(false);
    reader.frame(
      'data: {"type":"speech.audio.done","usage":{"input_tokens":3,"output_tokens":40,"total_tokens":43}}',
    );
    expect(reader.done).toBe(true);
    expect(reader.usage).toMatchObject({
      completion_tokens: 40,
      completion_tokens_details: { audio_tokens: 40 },
    });
  });

  it('ends a transcription stream at transcript.text.done, and notes errors', () => {
    const reader = new TranscriptionStreamReader();
    reader.frame(': comment');
    reader.frame('data: {"type":"transcript.text.delta","delta":"Hi"}');
    reader.frame('data: {"type":"error","error":{"message":"x"}}');
    reader.frame(
      'data: {"type":"transcript.text.done","text":"Hi","usage":{"type":"tokens","input_tokens":"bad"}}',
    );
    expect(reader).toMatchObject({ done: true, errored: true, frames: 3, usage: undefined });
  });
});
