import { idOfJson, responsesUsageOfJson, usageOfJson } from '../../../service/endpoints/json-usage';

describe('usage extraction', () => {
  it('reads the last usage object without parsing the body', () => {
    const body = JSON.stringify({
      data: [{ embedding: 'AAAA' }],
      usage: { prompt_tokens: 5, total_tokens: 5, prompt_tokens_details: { cached_tokens: 2 } },
    });
    expect(usageOfJson(body)).toEqual({
      prompt_tokens: 5,
      total_tokens: 5,
      prompt_tokens_details: { cached_tokens: 2 },
    });
    expect(usageOfJson('{"id":"x"}')).toBeUndefined();
    expect(usageOfJson('{"usage":{"prompt_tokens":')).toBeUndefined();
  });
});

describe('responsesUsageOfJson', () => {
  /** A Response object in OpenAI's key order: the output and the echoed request, then the usage. */
  const response = (usage: unknown, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      id: 'resp_1',
      object: 'response',
      status: 'completed',
      output: [
        {
          type: 'message',
          content: [{ type: 'output_text', text: 'the "usage": {"input_tokens": 0} is quoted' }],
        },
      ],
      text: { format: { type: 'text' } },
      usage,
      ...extra,
    });

  it('reads a Responses usage in the chat names, cached tokens included', () => {
    const usage = {
      input_tokens: 120,
      input_tokens_details: { cached_tokens: 64 },
      output_tokens: 30,
      output_tokens_details: { reasoning_tokens: 12 },
      total_tokens: 150,
    };
    expect(responsesUsageOfJson(response(usage))).toEqual({
      prompt_tokens: 120,
      completion_tokens: 30,
      prompt_tokens_details: { cached_tokens: 64 },
    });
  });

  it('is undefined for a body without usage, a null usage, a cut body and an unreadable usage', () => {
    expect(responsesUsageOfJson('{"id":"resp_1","object":"response"}')).toBeUndefined();
    expect(responsesUsageOfJson(response(null))).toBeUndefined();
    expect(responsesUsageOfJson('{"id":"resp_1","usage":{"input_tokens":12,')).toBeUndefined();
    expect(responsesUsageOfJson(response({ input_tokens: '12', output_tokens: 1 }))).toBeUndefined();
    expect(responsesUsageOfJson(response({ prompt_tokens: 12, completion_tokens: 1 }))).toBeUndefined();
  });

  it('does not read a usage in the chat names as a Responses usage, nor the reverse', () => {
    const chat = JSON.stringify({ id: 'chatcmpl-1', usage: { prompt_tokens: 3, completion_tokens: 4 } });
    expect(responsesUsageOfJson(chat)).toBeUndefined();
    expect(usageOfJson(response({ input_tokens: 3, output_tokens: 4 }))).toBeUndefined();
  });
});

describe('idOfJson', () => {
  it('reads the leading id of an OpenAI object', () => {
    expect(idOfJson('{"id":"resp_68af0c","object":"response"}')).toBe('resp_68af0c');
    expect(idOfJson(' \n{ "id" : "resp-1_A" ,"object":"response"}')).toBe('resp-1_A');
    expect(idOfJson(JSON.stringify({ id: 'resp_1', object: 'response' }, null, 2))).toBe('resp_1');
  });

  it('reads a top-level id that is not first by parsing the body, and never a nested one', () => {
    expect(idOfJson('{"object":"response","id":"resp_2"}')).toBe('resp_2');
    expect(idOfJson('{"object":"response","output":[{"id":"msg_1"}]}')).toBeUndefined();
  });

  it('is undefined for a non-string id, a non-object body and invalid JSON', () => {
    expect(idOfJson('{"id":7}')).toBeUndefined();
    expect(idOfJson('{"id":null}')).toBeUndefined();
    expect(idOfJson('null')).toBeUndefined();
    expect(idOfJson('"resp_1"')).toBeUndefined();
    expect(idOfJson('[{"id":"resp_1"}]')).toBeUndefined();
    expect(idOfJson('')).toBeUndefined();
    expect(idOfJson('{"id":"resp_1"')).toBe('resp_1'); // the fast path reads a leading id of a cut body
    expect(idOfJson('{"id":"resp 1"')).toBeUndefined();
  });
});
