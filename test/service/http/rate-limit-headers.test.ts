import { formatDuration } from '../../../service/http/rate-limit-headers';

describe('rate-limit headers', () => {
  it('formats reset durations like OpenAI', () => {
    expect([
      formatDuration(20),
      formatDuration(1000),
      formatDuration(360_000),
      formatDuration(3_723_000),
    ]).toEqual(['20ms', '1s', '6m0s', '1h2m3s']);
  });
});
