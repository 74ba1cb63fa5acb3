import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { chatBody, GatewayHarness } from '../../support/gateway-harness';
import { secretKey } from '../../../service/upstream/key';

const secretsManager = mockClient(SecretsManagerClient);
const ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:openai-key';

beforeAll(() => {
  process.env.AWS_REGION = 'us-east-1';
});
beforeEach(() => secretsManager.reset());

describe('upstream key from Secrets Manager', () => {
  it('caches the key, shares concurrent reads, and re-reads on refresh', async () => {
    const read = jest.fn(async (_arn: string, _field: string, options?: { forceFetch?: boolean }) =>
      options?.forceFetch ? 'sk-new' : 'sk-old',
    );
    const key = secretKey(ARN, { read });
    expect(await Promise.all([key.get(), key.get()])).toEqual(['sk-old', 'sk-old']);
    expect(await key.get()).toBe('sk-old');
    expect(read).toHaveBeenCalledTimes(1);
    expect(read).toHaveBeenCalledWith(ARN, 'apiKey', { forceFetch: false });
    expect(await key.refresh()).toBe('sk-new');
    expect(await key.get()).toBe('sk-new');
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('reads the secret again once the cached value is older than maxAgeMs, by its clock', async () => {
    let now = Date.parse('2027-02-28T23:59:00.000Z');
    const read = jest.fn(async () => 'sk-key');
    const key = secretKey(ARN, { read, maxAgeMs: 60_000, clock: () => now });
    await key.get();
    now += 59_999;
    await key.get();
    expect(read).toHaveBeenCalledTimes(1);
    now += 1;
    await key.get();
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('does not cache a failed read', async () => {
    let fail = true;
    const key = secretKey(ARN, {
      read: async () => {
        if (fail) throw new Error('AccessDenied');
        return 'sk-ok';
      },
    });
    await expect(key.get()).rejects.toThrow('AccessDenied');
    fail = false;
    expect(await key.get()).toBe('sk-ok');
  });

  it('picks up a rotated key after an upstream 401, through runtime/secrets and the gateway', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: ARN })
      .resolvesOnce({ SecretString: JSON.stringify({ apiKey: 'sk-rotated-out' }) })
      .resolves({ SecretString: JSON.stringify({ apiKey: 'sk-current' }) });
    const h = await GatewayHarness.start({ upstreamKey: secretKey(ARN) });
    try {
      h.fake.rejectKey('sk-rotated-out');
      await expect(h.client().chat.completions.create(chatBody())).resolves.toBeDefined();
      expect(h.fake.requests.map((r) => r.apiKey)).toEqual(['sk-rotated-out', 'sk-current']);
      expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
      await h.client().chat.completions.create(chatBody());
      expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    } finally {
      await h.stop();
    }
  });
});
