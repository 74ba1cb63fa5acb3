import { connectRedis, reconnectOnReply } from '../../../service/store/redis-connection';
import { freePort, RedisServer } from '../../support/redis-server';

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

  it('reconnects, without resending, on replies of a node that cannot take writes (a failover), and only on those', () => {
    const redis = connectRedis({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 50 });
    redis.disconnect();
    expect(redis.options.reconnectOnError).toBe(reconnectOnReply);
    const reply = (message: string) => reconnectOnReply(new Error(message));
    expect(reply("READONLY You can't write against a read only replica.")).toBe(1);
    expect(
      reply("READONLY You can't write against a read only replica. script: 2bab3b66, on @user_script:1."),
    ).toBe(1);
    expect(reply('LOADING Redis is loading the dataset in memory')).toBe(1);
    expect(reply("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")).toBe(1);
    for (const other of [
      'NOSCRIPT No matching script. Please use EVAL.',
      'WRONGTYPE Operation against a key holding the wrong kind of value',
      'ERR Error running script: user_script:3: READONLY mentioned later',
      'Command timed out',
      'Connection is closed.',
    ])
      expect(reply(other)).toBe(false);
  });

  /** Resolves on `event`, or rejects after `ms` (so a missing event fails the test instead of hanging it). */
  const nextEvent = (redis: ReturnType<typeof connectRedis>, event: string, ms = 3_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
      redis.once(event, () => {
        clearTimeout(timer);
        resolve();
      });
    });

  describe('against a replica', () => {
    let replica: RedisServer;
    beforeAll(async () => {
      // A replica of a primary that does not exist: it answers reads and refuses writes with READONLY.
      replica = await RedisServer.start({ replicaOfPort: await freePort() });
    });
    afterAll(() => replica.stop());

    it('fails the refused write with READONLY (not resent), then drops the connection to reconnect', async () => {
      const redis = connectRedis({ url: replica.url, commandTimeoutMs: 500 });
      try {
        await nextEvent(redis, 'ready');
        const reconnecting = nextEvent(redis, 'reconnecting');
        // A resent command (reconnectOnError 2) would fail on the closed stream instead.
        await expect(redis.set('k', 'v')).rejects.toThrow(/^READONLY/);
        await reconnecting;
        await nextEvent(redis, 'ready');
        expect(await redis.get('k')).toBeNull();
      } finally {
        redis.disconnect();
      }
    });
  });
});
