import { stagingConfig } from '../../lib/config';
import { validateStageConfig } from '../../lib/config/validate';
import { handler } from '../../lambda/config-validator';

/** The event AppConfig sends a Lambda validator: the candidate version's content, base64. */
const eventOf = (content: string) => ({
  applicationId: 'app1234',
  configurationProfileId: 'prof123',
  configurationVersion: '7',
  content: Buffer.from(content, 'utf8').toString('base64'),
  uri: 'hosted',
});

/** The document a deploy hosts as the first version: the stage's validated gateway config. */
const hostedDocument = () =>
  JSON.parse(JSON.stringify(validateStageConfig(stagingConfig))) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('config-validator handler', () => {
  it('accepts the document a deploy hosts', async () => {
    await expect(handler(eventOf(JSON.stringify(hostedDocument())))).resolves.toBeUndefined();
  });

  it('refuses a document with a bad field, naming the field and the version', async () => {
    const doc = hostedDocument();
    doc.clients[0].rpm = -5;
    await expect(handler(eventOf(JSON.stringify(doc)))).rejects.toThrow(
      /^gateway config: clients\[0\]\.rpm .+ \(version 7\)$/,
    );
  });

  it('refuses a document whose model list names an unknown model', async () => {
    const doc = hostedDocument();
    doc.clients[0].models = ['no-such-model'];
    await expect(handler(eventOf(JSON.stringify(doc)))).rejects.toThrow(/clients\[0\]\.models/);
  });

  it("refuses another stage's document when STAGE is set", async () => {
    const saved = process.env.STAGE;
    process.env.STAGE = 'Production';
    try {
      await expect(handler(eventOf(JSON.stringify(hostedDocument())))).rejects.toThrow(
        'gateway config: stage must be "Production" (this AppConfig environment\'s stage), got "Staging"',
      );
      process.env.STAGE = 'Staging';
      await expect(handler(eventOf(JSON.stringify(hostedDocument())))).resolves.toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.STAGE;
      else process.env.STAGE = saved;
    }
  });

  it('refuses content that is not JSON', async () => {
    await expect(handler(eventOf('clients: []'))).rejects.toThrow(/\(document\) is not JSON/);
  });

  it('refuses an event without content', async () => {
    await expect(handler({} as never)).rejects.toThrow(/no base64 content/);
  });
});
