import { usageOfJson } from '../../../service/endpoints/json-usage';

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
