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

describe('ResponsesStreamReader, frame by frame', () => {
  const completed = (usage: unknown) => frame('response.completed', { response: { id: 'resp_1', usage } });

  it('starts empty', () => {
    const reader = new ResponsesStreamReader();
    expect({
      usage: reader.usage,
      done: reader.done,
      errored: reader.errored,
      frames: reader.frames,
      createdId: reader.createdId,
    }).toEqual({ usage: undefined, done: false, errored: false, frames: 0, createdId: undefined });
  });

  it('reads the type of an event line without a space, and of CRLF frames', () => {
    const reader = new ResponsesStreamReader();
    const data = JSON.stringify({ type: 'response.created', response: { id: 'resp_crlf' } });
    expect(reader.frame(`event:response.created\r\ndata: ${data}`)).toBe(
      `event:response.created\r\ndata: ${data}`,
    );
    expect(reader.createdId).toBe('resp_crlf');
    reader.frame(
      `event: response.completed\r\ndata: ${JSON.stringify({ response: { usage: { input_tokens: 2, output_tokens: 3 } } })}`,
    );
    expect(reader.done).toBe(true);
    expect(reader.usage).toEqual({ prompt_tokens: 2, completion_tokens: 3 });
  });

  it('learns the created id from a frame without an event line', () => {
    const reader = new ResponsesStreamReader();
    const f = `data: ${JSON.stringify({ type: 'response.created', sequence_number: 0, response: { id: 'resp_9' } })}`;
    expect(reader.frame(f)).toBe(f);
    expect(reader.createdId).toBe('resp_9');
    expect(reader.frames).toBe(1);
  });

  it('keeps no id from a response.created without a string id, and only response.created names it', () => {
    const reader = new ResponsesStreamReader();
    reader.frame(frame('response.created', { response: { id: 42 } }));
    reader.frame(frame('response.created', {}));
    reader.frame('event: response.created\ndata: {not json');
    reader.frame(frame('response.in_progress', { response: { id: 'resp_x' } }));
    expect(reader.createdId).toBeUndefined();
    expect(reader.frames).toBe(4);
    expect(reader.done).toBe(false);
  });

  it('counts every typed frame, and neither comments nor frames it cannot type', () => {
    const reader = new ResponsesStreamReader();
    const frames = [
      ': keep-alive',
      frame('response.created', { response: { id: 'resp_1' } }),
      frame('response.in_progress', { response: { id: 'resp_1' } }),
      frame('response.output_item.added', { item: {} }),
      frame('response.output_text.delta', { delta: 'a' }),
      frame('response.output_text.delta', { delta: 'b' }),
      ':',
      'data: [1,2]',
    ];
    expect(frames.map((f) => reader.frame(f))).toEqual(frames);
    expect(reader.frames).toBe(5);
    expect(reader.done).toBe(false);
    expect(reader.usage).toBeUndefined();
  });

  it.each<[string, boolean]>([
    ['response.completed', false],
    ['response.incomplete', false],
    ['response.failed', true],
  ])('%s ends the stream with its usage, cached tokens included (errored: %p)', (type, errored) => {
    const reader = new ResponsesStreamReader();
    reader.frame(
      frame(type, {
        response: {
          id: 'resp_1',
          usage: {
            input_tokens: 40,
            input_tokens_details: { cached_tokens: 10 },
            output_tokens: 9,
            output_tokens_details: { reasoning_tokens: 5 },
            total_tokens: 49,
          },
        },
      }),
    );
    expect(reader.done).toBe(true);
    expect(reader.errored).toBe(errored);
    expect(reader.frames).toBe(1);
    expect(reader.usage).toEqual({
      prompt_tokens: 40,
      completion_tokens: 9,
      prompt_tokens_details: { cached_tokens: 10 },
    });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['absent input tokens', { output_tokens: 3 }],
    ['negative tokens', { input_tokens: -1, output_tokens: 3 }],
    ['fractional tokens', { input_tokens: 1.5, output_tokens: 3 }],
    [
      'more cached than input',
      { input_tokens: 3, input_tokens_details: { cached_tokens: 4 }, output_tokens: 1 },
    ],
    ['a string output count', { input_tokens: 3, output_tokens: '1' }],
  ])('leaves an unreadable usage (%s) undefined at the terminal event', (_what, usage) => {
    const reader = new ResponsesStreamReader();
    reader.frame(completed(usage));
    expect(reader.done).toBe(true);
    expect(reader.usage).toBeUndefined();
  });

  it('leaves the usage undefined when the terminal frame is not JSON', () => {
    const reader = new ResponsesStreamReader();
    expect(reader.frame('event: response.completed\ndata: {"response":')).toBe(
      'event: response.completed\ndata: {"response":',
    );
    expect(reader.done).toBe(true);
    expect(reader.usage).toBeUndefined();
  });

  it('reads a terminal usage without output tokens as zero completion tokens', () => {
    const reader = new ResponsesStreamReader();
    reader.frame(frame('response.failed', { response: { usage: { input_tokens: 8 } } }));
    expect(reader.usage).toEqual({ prompt_tokens: 8, completion_tokens: 0 });
  });

  it('marks an error event without an event line, and does not end the stream at it', () => {
    const reader = new ResponsesStreamReader();
    const f = `data: ${JSON.stringify({ type: 'error', code: 'server_error', message: 'boom', sequence_number: 3 })}`;
    expect(reader.frame(f)).toBe(f);
    expect(reader.errored).toBe(true);
    expect(reader.done).toBe(false);
    expect(reader.frames).toBe(1);
  });

  it('stays errored once an error event arrived, whatever terminal event follows', () => {
    // A stream that carried an error is not a clean answer (the relay never caches it): the flag is
    // sticky, as the chat stream reader's is.
    for (const terminal of ['response.completed', 'response.incomplete']) {
      const reader = new ResponsesStreamReader();
      reader.frame(frame('error', { code: 'server_error', message: 'boom' }));
      reader.frame(frame(terminal, { response: { usage: { input_tokens: 1, output_tokens: 1 } } }));
      expect(reader.done).toBe(true);
      expect({ terminal, errored: reader.errored }).toEqual({ terminal, errored: true });
    }
  });
});
