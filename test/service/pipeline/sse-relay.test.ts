import { ChatStreamReader } from '../../../service/endpoints/chat-stream';
import { SseRelay } from '../../../service/pipeline/sse-relay';

const frame = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;

describe('SseRelay with the chat stream grammar', () => {
  const usage = { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 };
  const content = { id: 'c', choices: [{ index: 0, delta: { content: 'hé' } }], usage: null };
  const usageChunk = { id: 'c', choices: [], usage };

  it('reassembles frames split anywhere, even inside a UTF-8 character', () => {
    const relay = new SseRelay(new ChatStreamReader(true), true);
    const bytes = Buffer.from(frame(content) + frame(usageChunk) + 'data: [DONE]\n\n');
    let out = '';
    for (let i = 0; i < bytes.length; i += 7) out += relay.push(bytes.subarray(i, i + 7));
    expect(out).toBe(bytes.toString());
    expect(relay.reader.usage).toEqual(usage);
    expect(relay.reader.done).toBe(true);
    expect(relay.forwarded).toBe(out);
  });

  it('drops the usage-only chunk and the usage:null members when the caller did not ask', () => {
    const relay = new SseRelay(new ChatStreamReader(false), false);
    const out = relay.push(Buffer.from(frame(content) + frame(usageChunk) + 'data: [DONE]\n\n'));
    expect(out).toBe(frame({ id: 'c', choices: content.choices }) + 'data: [DONE]\n\n');
    expect(relay.reader.usage).toEqual(usage);
  });

  it('keeps an incomplete frame until its end arrives', () => {
    const relay = new SseRelay(new ChatStreamReader(true), false);
    expect(relay.push(Buffer.from('data: {"a":1}\n'))).toBe('');
    expect(relay.push(Buffer.from('\n'))).toBe('data: {"a":1}\n\n');
    expect(relay.reader.done).toBe(false);
  });
});
