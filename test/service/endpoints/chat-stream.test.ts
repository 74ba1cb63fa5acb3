import { ChatStreamReader } from '../../../service/endpoints/chat-stream';

const DONE = 'data: [DONE]';
const USAGE = { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 };
const contentChunk = (text: string) =>
  `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"${text}"}}],"usage":null}`;
const USAGE_ONLY = `data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":${JSON.stringify(USAGE)}}`;

describe('ChatStreamReader', () => {
  describe('the terminal frame', () => {
    it('marks the stream done, forwards [DONE] and does not count it', () => {
      const reader = new ChatStreamReader(false);
      expect(reader.done).toBe(false);
      expect(reader.frame(DONE)).toBe(DONE);
      expect(reader.done).toBe(true);
      expect(reader.frames).toBe(0);
    });

    it('is not done before [DONE] arrives', () => {
      const reader = new ChatStreamReader(false);
      reader.frame(contentChunk('Hi'));
      reader.frame(USAGE_ONLY);
      expect(reader.done).toBe(false);
    });
  });

  describe('usage', () => {
    it('is undefined until the usage frame arrives', () => {
      const reader = new ChatStreamReader(true);
      reader.frame(contentChunk('Hi'));
      expect(reader.usage).toBeUndefined();
    });

    it('is read from the usage frame', () => {
      const reader = new ChatStreamReader(true);
      reader.frame(USAGE_ONLY);
      expect(reader.usage).toEqual(USAGE);
    });

    it('is read from the usage frame even when the caller did not ask for it', () => {
      const reader = new ChatStreamReader(false);
      reader.frame(USAGE_ONLY);
      expect(reader.usage).toEqual(USAGE);
    });

    it('keeps the nested details upstream reports', () => {
      const usage = { prompt_tokens: 20, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 8 } };
      const reader = new ChatStreamReader(false);
      reader.frame(`data: {"choices":[],"usage":${JSON.stringify(usage)}}`);
      expect(reader.usage).toEqual(usage);
    });
  });

  describe('when the caller did not ask for usage', () => {
    it('drops the usage-only chunk', () => {
      const reader = new ChatStreamReader(false);
      expect(reader.frame(USAGE_ONLY)).toBeUndefined();
    });

    it('strips the "usage":null member from content chunks', () => {
      const reader = new ChatStreamReader(false);
      expect(reader.frame(contentChunk('Hi'))).toBe(
        'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}]}',
      );
    });

    it('removes usage from a chunk that also carries choices and forwards the choices', () => {
      const reader = new ChatStreamReader(false);
      const frame = `data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":${JSON.stringify(USAGE)}}`;
      expect(reader.frame(frame)).toBe(
        'data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
      );
      expect(reader.usage).toEqual(USAGE);
      expect(reader.frames).toBe(1);
    });

    it('forwards a chunk without any usage member unchanged', () => {
      const reader = new ChatStreamReader(false);
      const frame = 'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}]}';
      expect(reader.frame(frame)).toBe(frame);
    });
  });

  describe('when the caller asked for usage', () => {
    it('forwards the usage-only chunk unchanged', () => {
      const reader = new ChatStreamReader(true);
      expect(reader.frame(USAGE_ONLY)).toBe(USAGE_ONLY);
    });

    it('keeps the "usage":null member of content chunks', () => {
      const reader = new ChatStreamReader(true);
      expect(reader.frame(contentChunk('Hi'))).toBe(contentChunk('Hi'));
    });
  });

  describe('frame count', () => {
    it('counts the content frames forwarded, not the dropped usage-only chunk nor [DONE]', () => {
      const reader = new ChatStreamReader(false);
      const forwarded = [contentChunk('a'), contentChunk('b'), contentChunk('c'), USAGE_ONLY, DONE]
        .map((f) => reader.frame(f))
        .filter((f) => f !== undefined);
      expect(forwarded).toHaveLength(4);
      expect(reader.frames).toBe(3);
      expect(reader.done).toBe(true);
      expect(reader.usage).toEqual(USAGE);
    });

    it('counts the usage-only chunk when it is forwarded to the caller', () => {
      const reader = new ChatStreamReader(true);
      for (const f of [contentChunk('a'), contentChunk('b'), USAGE_ONLY, DONE]) reader.frame(f);
      expect(reader.frames).toBe(3);
    });

    it('counts a data line written without the space after the colon', () => {
      const reader = new ChatStreamReader(false);
      expect(reader.frame('data:{"choices":[]}')).toBe('data:{"choices":[]}');
      expect(reader.frames).toBe(1);
    });
  });

  describe('errors', () => {
    it('marks the stream errored on an error frame and forwards it unchanged', () => {
      const reader = new ChatStreamReader(false);
      const frame = 'data: {"error":{"message":"The server had an error","type":"server_error","code":null}}';
      expect(reader.frame(frame)).toBe(frame);
      expect(reader.errored).toBe(true);
    });

    it('is not errored by content frames', () => {
      const reader = new ChatStreamReader(false);
      for (const f of [contentChunk('error'), USAGE_ONLY, DONE]) reader.frame(f);
      expect(reader.errored).toBe(false);
    });
  });

  describe('frames that are not data', () => {
    it.each([': keep-alive', 'event: ping', 'id: 7', 'retry: 1000', ''])(
      'forwards %j untouched without counting it',
      (frame) => {
        for (const wantsUsage of [false, true]) {
          const reader = new ChatStreamReader(wantsUsage);
          expect(reader.frame(frame)).toBe(frame);
          expect(reader.frames).toBe(0);
          expect(reader.done).toBe(false);
          expect(reader.errored).toBe(false);
          expect(reader.usage).toBeUndefined();
        }
      },
    );

    it('does not strip "usage":null from a comment', () => {
      const frame = ': {"a":1,"usage":null}';
      expect(new ChatStreamReader(false).frame(frame)).toBe(frame);
    });
  });

  describe('a malformed usage frame', () => {
    it.each([false, true])('is forwarded as is (caller asked: %s)', (wantsUsage) => {
      const frame = 'data: {"choices":[],"usage":{"prompt_tokens":';
      const reader = new ChatStreamReader(wantsUsage);
      expect(reader.frame(frame)).toBe(frame);
      expect(reader.usage).toBeUndefined();
      expect(reader.frames).toBe(1);
    });
  });

  it('does not read usage from content text that quotes a usage member', () => {
    const chunk = { choices: [{ index: 0, delta: { content: 'the "usage":{ member' } }], usage: null };
    const frame = `data: ${JSON.stringify(chunk)}`;
    const reader = new ChatStreamReader(false);
    expect(reader.frame(frame)).toBe(
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'the "usage":{ member' } }] })}`,
    );
    expect(reader.usage).toBeUndefined();
    expect(reader.frames).toBe(1);
  });
});
