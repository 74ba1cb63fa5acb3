import { GatewayError } from '../../../service/errors';
import { moderate, type ModerationInput } from '../../../service/pipeline/moderate';
import { startPipeline, type PipelineHarness } from '../../support/pipeline-harness';

describe('moderate', () => {
  let h: PipelineHarness;
  beforeAll(async () => {
    h = await startPipeline();
  });
  afterEach(() => h.fake.reset());
  afterAll(() => h.close());

  const check = (text: string): Promise<void> => {
    const input: ModerationInput = {
      upstream: h.deps.upstream,
      config: { enabled: true, model: 'omni-moderation-2024-09-26' },
      text,
      signal: new AbortController().signal,
      attempts: { throttled: 0, errors: 0, unanswered: 0 },
    };
    return moderate(input);
  };

  it('resolves when nothing is flagged, after sending the configured model and the text', async () => {
    await expect(check('What is the capital of France?\nAnd of Spain?')).resolves.toBeUndefined();

    const sent = h.fake.requestsTo('/v1/moderations');
    expect(sent).toHaveLength(1);
    expect(sent[0].body).toEqual({
      model: 'omni-moderation-2024-09-26',
      input: 'What is the capital of France?\nAnd of Spain?',
    });
  });

  it('refuses flagged input with 400 content_flagged', async () => {
    const refused = check('please FLAG_ME now');

    await expect(refused).rejects.toBeInstanceOf(GatewayError);
    await expect(refused).rejects.toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      code: 'content_flagged',
      param: 'messages',
    });
  });

  it('fails with 502 when the moderation endpoint answers non-200', async () => {
    h.fake.enqueue({ path: '/v1/moderations', status: 400 });

    await expect(check('hello')).rejects.toMatchObject({
      status: 502,
      code: 'upstream_error',
      message: 'The moderation check failed with status 400.',
    });
  });

  it('fails with 502 when the moderation endpoint keeps failing with 5xx', async () => {
    h.fake.enqueue(
      { path: '/v1/moderations', status: 503 },
      { path: '/v1/moderations', status: 503 },
      { path: '/v1/moderations', status: 503 },
    );

    await expect(check('hello')).rejects.toMatchObject({ status: 502, code: 'upstream_error' });
    expect(h.fake.requestsTo('/v1/moderations')).toHaveLength(3);
  });

  it('fails with 502 when the moderation answer is not JSON', async () => {
    h.fake.enqueue({ path: '/v1/moderations', status: 200, rawBody: '{"results": [' });

    await expect(check('hello')).rejects.toMatchObject({
      status: 502,
      code: 'upstream_error',
      message: 'The moderation check returned an unreadable answer.',
    });
  });
});
