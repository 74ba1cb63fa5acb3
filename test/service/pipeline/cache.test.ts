import { createHash } from 'node:crypto';
import { canonicalJson, cacheKey, type CacheKeyScope } from '../../../service/pipeline/cache';

const keyOf = ({ body, ...scope }: CacheKeyScope & { body: unknown }) => cacheKey(scope, canonicalJson(body));

describe('cache keys', () => {
  it('are independent of member order and depend on client, version, endpoint and stream flag', () => {
    const base = {
      version: '1',
      clientId: 'a',
      endpoint: 'chat' as const,
      stream: false,
      body: { a: 1, b: [1, { y: 2, x: 1 }] },
    };
    const k = keyOf(base);
    expect(k).toMatch(/^cache:[0-9a-f]{64}$/);
    expect(keyOf({ ...base, body: { b: [1, { x: 1, y: 2 }], a: 1 } })).toBe(k);
    for (const change of [
      { version: '2' },
      { clientId: 'b' },
      { endpoint: 'embeddings' as const },
      { stream: true },
    ]) {
      expect(keyOf({ ...base, ...change })).not.toBe(k);
    }
    expect(canonicalJson({ b: undefined, a: [undefined, 'x'] })).toBe('{"a":[null,"x"]}');
  });

  it('sort members by UTF-16 code units at every size, as JSON key order for Array.prototype.sort', () => {
    for (const size of [2, 5, 16, 17, 40]) {
      const keys = Array.from({ length: size }, (_, i) => `k${(i * 7919) % 97}${i % 3 ? 'é' : 'Z'}${i}`);
      const body = Object.fromEntries(keys.map((k, i) => [k, i]));
      const sorted = [...keys].sort();
      expect(Object.keys(JSON.parse(canonicalJson(body)) as object)).toEqual(sorted);
      expect(canonicalJson(body)).toBe(JSON.stringify(Object.fromEntries(sorted.map((k) => [k, body[k]]))));
    }
  });

  it('hash the canonical JSON the pipeline sends upstream, and stay the keys earlier releases wrote', () => {
    const base = { version: '1', clientId: 'a', endpoint: 'chat' as const, stream: false };
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0 };
    const canonical = canonicalJson(body);
    expect(JSON.parse(canonical)).toEqual(body);
    expect(keyOf({ ...base, body })).toBe(
      'cache:' + createHash('sha256').update('1\0a\0chat\0j\0').update(canonical).digest('hex'),
    );
  });
});
