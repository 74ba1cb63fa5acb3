import { nextUtcMonthStart, utcMonth, utcMonthStart } from '../../runtime/clock';
import { msUntilNextUtcMonth } from '../../service/store/month';

const at = (iso: string): number => Date.parse(iso);

describe('the UTC calendar', () => {
  it.each([
    // [instant, its month, the month's first instant, the next month's first instant]
    ['2026-06-30T23:59:59.999Z', '2026-06', '2026-06-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z'],
    ['2026-07-01T00:00:00.000Z', '2026-07', '2026-07-01T00:00:00.000Z', '2026-08-01T00:00:00.000Z'],
    ['2026-12-31T23:59:59.999Z', '2026-12', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2027-01-01T00:00:00.000Z', '2027-01', '2027-01-01T00:00:00.000Z', '2027-02-01T00:00:00.000Z'],
    ['2027-02-28T23:59:59.999Z', '2027-02', '2027-02-01T00:00:00.000Z', '2027-03-01T00:00:00.000Z'],
    ['2027-03-01T00:00:00.000Z', '2027-03', '2027-03-01T00:00:00.000Z', '2027-04-01T00:00:00.000Z'],
    ['2028-02-29T12:00:00.000Z', '2028-02', '2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
    ['2028-02-29T23:59:59.999Z', '2028-02', '2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z'],
  ])('%s is in %s, which runs from %s to %s', (instant, month, start, next) => {
    expect(utcMonth(at(instant))).toBe(month);
    expect(utcMonthStart(at(instant))).toBe(at(start));
    expect(nextUtcMonthStart(at(instant))).toBe(at(next));
    expect(msUntilNextUtcMonth(at(instant))).toBe(at(next) - at(instant));
  });

  it('counts the last millisecond of a month as that month', () => {
    expect(msUntilNextUtcMonth(at('2027-02-28T23:59:59.999Z'))).toBe(1);
    expect(utcMonth(at('2027-03-01T00:00:00.000Z') - 1)).toBe('2027-02');
  });
});
