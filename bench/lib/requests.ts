import type { BenchRequest } from './load';
import { BENCH_MODEL } from './gateway-configs';
import { BENCH_CLIENT_KEY, BENCH_UPSTREAM_KEY } from './stack';

/** Which key a target expects: the gateway authenticates callers; direct and the proxy take the upstream key. */
export type KeyKind = 'gateway' | 'upstream';

export interface ChatRequestOptions {
  readonly key: KeyKind;
  /** Text of the user message (vary it per request for a cache miss). */
  readonly content: string;
  /** 0 makes a chat request cacheable by the gateway. */
  readonly temperature: number;
  readonly maxTokens: number;
  readonly stream?: boolean;
}

/** A `POST /v1/chat/completions` with OpenAI's body shape. */
export function chatRequest(options: ChatRequestOptions): BenchRequest {
  return {
    method: 'POST',
    path: '/v1/chat/completions',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${options.key === 'gateway' ? BENCH_CLIENT_KEY : BENCH_UPSTREAM_KEY}`,
    },
    body: JSON.stringify({
      model: BENCH_MODEL,
      messages: [
        { role: 'system', content: 'You are a terse assistant.' },
        { role: 'user', content: options.content },
      ],
      temperature: options.temperature,
      max_tokens: options.maxTokens,
      ...(options.stream ? { stream: true } : {}),
    }),
  };
}

/** A `POST /v1/responses` with the same prompt as `chatRequest` (instructions and input). */
export function responsesRequest(options: ChatRequestOptions): BenchRequest {
  return {
    method: 'POST',
    path: '/v1/responses',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${options.key === 'gateway' ? BENCH_CLIENT_KEY : BENCH_UPSTREAM_KEY}`,
    },
    body: JSON.stringify({
      model: BENCH_MODEL,
      instructions: 'You are a terse assistant.',
      input: options.content,
      temperature: options.temperature,
      max_output_tokens: options.maxTokens,
      // Not stored: every stream is a new response nobody retrieves, as the chat streams are.
      store: false,
      ...(options.stream ? { stream: true } : {}),
    }),
  };
}
