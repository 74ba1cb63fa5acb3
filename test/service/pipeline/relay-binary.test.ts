import { speech } from '../../../service/endpoints/audio';
import { relayBinary } from '../../../service/pipeline/relay-binary';
import { eventually } from '../../support/eventually';
import { MemoryResponse } from '../../support/memory-response';
import { startPipeline, type PipelineHarness } from '../../support/pipeline-harness';
import { MEDIA_MODELS } from '../../support/media-config';

const HEADERS = { 'x-cache-status': 'BYPASS' };

describe('relayBinary', () => {
  let h: PipelineHarness;
  beforeAll(async () => {
    h = await startPipeline({ config: { models: MEDIA_MODELS } });
  });
  afterEach(() => h.fake.reset());
  afterAll(() => h.close());

  const input = (response: MemoryResponse, body: Record<string, unknown>) => {
    const prepared = speech.prepare({ policy: h.deps.policy, client: h.client(), body });
    return h.forwardInput({ response, body, headers: HEADERS, prepared });
  };

  it('streams the bytes through with upstream content type and charges the characters', async () => {
    const response = new MemoryResponse();
    const forwarded = await relayBinary(
      h.deps,
      input(response, { model: 'tts-1', voice: 'a', input: 'x'.repeat(500) }),
    );
    expect(response.streamMediaType).toBe('audio/mpeg');
    expect(response.streamHeaders).toMatchObject(HEADERS);
    expect(response.streamText).toBe('\u0007'.repeat(50_000));
    expect(response.ended).toBe(true);
    expect(response.problems).toEqual([]);
    // 500 characters at $15 a million.
    expect(forwarded.charge.metered.costNanos).toBe(7_500_000);
    expect(forwarded.streamOutcome).toBe('complete');
  });

  it('drops the caller when upstream cuts the audio short, and charges the worst case', async () => {
    h.fake.enqueue({ path: '/v1/audio/speech', cutAfterChunks: 1 });
    const response = new MemoryResponse();
    const forwarded = await relayBinary(
      h.deps,
      input(response, { model: 'tts-1', voice: 'a', input: 'x'.repeat(500) }),
    );
    expect(response.dropped).toBe(true);
    expect(response.ended).toBe(false);
    expect(response.streamText.length).toBe(16_384);
    expect(forwarded.streamOutcome).toBe('upstream_failed');
    expect(forwarded.charge.metered.costNanos).toBe(7_500_000);
  });

  it('relays an error status as JSON and charges nothing', async () => {
    h.fake.enqueue({ path: '/v1/audio/speech', status: 400 });
    const response = new MemoryResponse();
    const forwarded = await relayBinary(h.deps, input(response, { model: 'tts-1', voice: 'a', input: 'x' }));
    expect(response.sent).toMatchObject({ status: 400, contentType: 'json' });
    expect(forwarded.charge.metered.costNanos).toBe(0);
  });

  it('charges the worst case to a caller who leaves mid-audio, and stops reading upstream', async () => {
    const response = new MemoryResponse();
    response.holdWrites();
    const call = relayBinary(
      h.deps,
      input(response, { model: 'tts-1-hd', voice: 'a', input: 'x'.repeat(4000) }),
    );
    await eventually(() => response.pendingWrites > 0); // the first bytes wait for the caller
    response.abort();
    const forwarded = await call;
    expect(forwarded.streamOutcome).toBe('caller_aborted');
    expect(forwarded.charge.metered.costNanos).toBe(120_000_000);
  });
});
