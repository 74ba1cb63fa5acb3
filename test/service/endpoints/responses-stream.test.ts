import { ResponsesStreamReader } from '../../../service/endpoints/responses-stream';

const frame = (type: string, data: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: 0, ...data })}`;

describe('ResponsesStreamReader', () => {
  it('forwards every frame as it is, learns the id from response.created, and the usage from the terminal event', () => {
    const reader = new ResponsesStreamReader();
    const created = frame('response.created', { response: { id: 'resp_1', usage: null } });
    const delta = frame('response.output_text.delta', { delta: 'Hi' });
    const done = frame('response.completed', {
      response: {
        id: 'resp_1',
        usage: { input_tokens: 12, input_tokens_details: { cached_tokens: 4 }, output_tokens: 7 },
      },
    });
    expect([created, delta, done].map((f) => reader.frame(f))).toEqual([created, delta, done]);
    expect(reader.createdId).toBe('resp_1');
    expect(reader.done).toBe(true);
    expect(reader.errored).toBe(false);
    expect(reader.frames).toBe(3);
    expect(reader.usage).toEqual({
      prompt_tokens: 12,
      completion_tokens: 7,
      prompt_tokens_details: { cached_tokens: 4 },
    });
  });

  it.each(['response.incomplete', 'response.failed'])('ends the stream at %s', (type) => {
    const reader = new ResponsesStreamReader();
    reader.frame(frame(type, { response: { id: 'resp_2', usage: { input_tokens: 3, output_tokens: 1 } } }));
    expect(reader.done).toBe(true);
    expect(reader.errored).toBe(type === 'response.failed');
    expect(reader.usage).toEqual({ prompt_tokens: 3, completion_tokens: 1 });
  });

  it('reads frames without an event line by their data type', () => {
    const reader = new ResponsesStreamReader();
    reader.frame(
      `data: ${JSON.stringify({ type: 'response.completed', response: { usage: { input_tokens: 1, output_tokens: 1 } } })}`,
    );
    expect(reader.done).toBe(true);
  });

  it('leaves an unreadable usage undefined, so the call settles at its worst case', () => {
    const reader = new ResponsesStreamReader();
    reader.frame(
      frame('response.completed', { response: { usage: { input_tokens: '12', output_tokens: 7 } } }),
    );
    expect(reader.done).toBe(true);
    expect(reader.usage).toBeUndefined();
  });

  it('marks an error event, and passes comments through without counting them', () => {
    const reader = new ResponsesStreamReader();
    expect(reader.frame(': keep-alive')).toBe(': keep-alive');
    reader.frame(frame('error', { message: 'boom' }));
    expect(reader.errored).toBe(true);
    expect(reader.done).toBe(false);
    expect(reader.frames).toBe(1);
  });
});
