import { connectRedis } from '../../../service/store/redis-connection';
import { freePort } from '../../support/redis-server';

describe('connectRedis', () => {
  it('uses TLS for rediss:// (ElastiCache in-transit encryption), the AUTH token as password, and fails fast', async () => {
    const port = await freePort();
    const redis = connectRedis({
      url: `rediss://127.0.0.1:${port}`,
      authToken: 'token',
      commandTimeoutMs: 50,
    });
    try {
      expect(redis.options).toMatchObject({
        tls: {},
        password: 'token',
        commandTimeout: 50,
        enableOfflineQueue: false,
        autoResendUnfulfilledCommands: false,
        maxRetriesPerRequest: 0,
        lazyConnect: false,
        enableAutoPipelining: true,
      });
      await expect(redis.get('k')).rejects.toThrow(/enableOfflineQueue/);
    } finally {
      redis.disconnect();
    }
  });

  it('connects without TLS for redis:// and keeps a password given in the URL when no token is given', () => {
    const redis = connectRedis({ url: 'redis://:from-url@127.0.0.1:1', commandTimeoutMs: 50 });
    try {
      expect(redis.options.tls).toBeUndefined();
      expect(redis.options.password).toBe('from-url');
    } finally {
      redis.disconnect();
    }
  });

  it('backs off reconnection exponentially up to 2 s, with jitter', () => {
    const redis = connectRedis({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 50 });
    redis.disconnect();
    const retry = redis.options.retryStrategy!;
    for (let attempt = 1; attempt < 30; attempt++) {
      const delay = retry(attempt) as number;
      const backoff = Math.min(2_000, 50 * 2 ** Math.min(attempt, 10));
      expect(delay).toBeGreaterThanOrEqual(backoff / 2);
      expect(delay).toBeLessThanOrEqual(backoff);
    }
  });
});
