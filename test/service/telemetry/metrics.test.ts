import { GatewayMetrics, roundSignificant } from '../../../service/telemetry/metrics';

describe('metrics', () => {
  it('rounds to two significant digits and bounds distinct values to 100 per line', () => {
    expect([
      roundSignificant(0.04),
      roundSignificant(0.46),
      roundSignificant(3.33),
      roundSignificant(1234),
    ]).toEqual([0, 0.5, 3.3, 1200]);
    const lines: string[] = [];
    const m = new GatewayMetrics({ stage: 's', write: (l) => lines.push(l), now: () => 1000 });
    for (let i = 1; i <= 5000; i++) {
      m.record({
        status: 200,
        latencyMs: i * 1.7,
        promptTokens: 1,
        completionTokens: 2,
        costNanos: 1500,
        budgetExceeded: false,
        upstream429: 0,
        upstreamErrors: 0,
      });
    }
    m.flush(2_000_000_000);
    expect(lines).toHaveLength(1);
    const emf = JSON.parse(lines[0]);
    expect(emf._aws).toMatchObject({
      Timestamp: 1000,
      CloudWatchMetrics: [{ Namespace: 'OpenAIBlueprint', Dimensions: [['Stage']] }],
    });
    expect(emf.Latency.Values.length).toBeLessThanOrEqual(100);
    expect(emf.Latency.Counts.reduce((a: number, b: number) => a + b, 0)).toBe(5000);
    expect(emf.Latency).toMatchObject({ Count: 5000, Min: 1.7, Max: 8500 });
    expect(emf).toMatchObject({
      Requests: 5000,
      PromptTokens: 5000,
      CompletionTokens: 10000,
      MonthToDateSpendUsd: 2,
    });
    expect(emf.CostUsd).toBeCloseTo(0.0075, 9);
    lines.length = 0;
    m.flush();
    expect(lines).toHaveLength(0);
  });
});
