/** What only the in-process store has: a cache bounded by entries and bytes, with expiry by its clock. */
import { MemoryStore } from '../../../service/store';
import { LruCache } from '../../../service/store/lru-cache';
import { request, TestClock } from './store-harness';

describe('LruCache', () => {
  it('evicts the least recently used entry beyond maxEntries', () => {
    const cache = new LruCache({ maxEntries: 2 });
    cache.set('a', '1', 1_000, 0);
    cache.set('b', '2', 1_000, 0);
    expect(cache.get('a', 0)).toBe('1'); // a is now the most recently used
    cache.set('c', '3', 1_000, 0);
    expect(cache.get('b', 0)).toBeNull();
    expect(cache.get('a', 0)).toBe('1');
    expect(cache.get('c', 0)).toBe('3');
    expect(cache.size).toBe(2);
  });

  it('evicts beyond maxBytes and refuses a single entry larger than the bound', () => {
    const cache = new LruCache({ maxBytes: 100 });
    cache.set('a', 'x'.repeat(20), 1_000, 0); // 42 bytes
    cache.set('b', 'y'.repeat(20), 1_000, 0); // 42 bytes
    cache.set('c', 'z'.repeat(20), 1_000, 0); // over 100: a goes
    expect(cache.get('a', 0)).toBeNull();
    expect(cache.bytes).toBe(84);
    cache.set('huge', 'h'.repeat(60), 1_000, 0);
    expect(cache.get('huge', 0)).toBeNull();
    expect(cache.get('b', 0)).not.toBeNull();
  });

  it('expires entries after their TTL and frees their bytes', () => {
    const cache = new LruCache();
    cache.set('a', 'v', 1_000, 0);
    expect(cache.get('a', 999)).toBe('v');
    expect(cache.get('a', 1_000)).toBeNull();
    expect(cache.bytes).toBe(0);
  });

  it('replaces an entry under the same key without counting it twice', () => {
    const cache = new LruCache();
    cache.set('a', 'one', 1_000, 0);
    cache.set('a', 'two', 1_000, 0);
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBe(2 * ('a'.length + 'two'.length));
  });
});

describe('MemoryStore cache', () => {
  it('expires entries by the store clock', async () => {
    const clock = new TestClock(Date.UTC(2026, 2, 10));
    const store = new MemoryStore({ now: clock.now });
    await store.cacheSet('k', 'v', 10);
    clock.advance(9_999);
    expect(await store.admit(request({ cacheKey: 'k' }))).toMatchObject({ ok: true, cached: 'v' });
    clock.advance(1);
    expect(await store.admit(request({ cacheKey: 'k' }))).toMatchObject({ ok: true, cached: null });
  });

  it('honours its entry bound', async () => {
    const store = new MemoryStore({ cache: { maxEntries: 1 } });
    await store.cacheSet('a', '1', 60);
    await store.cacheSet('b', '2', 60);
    expect(await store.admit(request({ cacheKey: 'a' }))).toMatchObject({ cached: null });
    expect(await store.admit(request({ cacheKey: 'b' }))).toMatchObject({ cached: '2' });
  });
});
