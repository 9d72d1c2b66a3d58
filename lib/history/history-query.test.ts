import { describe, expect, it } from 'vitest';
import { parseHistoryQuery } from './history-query';

const NOW = Date.UTC(2026, 11, 5, 3, 0, 0);
const parse = (q: string) => parseHistoryQuery(new URLSearchParams(q), NOW);

describe('history query', () => {
  it('reads series, member, range and the number of points', () => {
    expect(parse('series=probe_ms&member=8e9e05c52164694d&from=-1h&points=400')).toEqual({
      series: 'probe_ms',
      memberId: '8e9e05c52164694d',
      from: NOW - 3_600_000,
      to: NOW,
      maxPoints: 400,
    });
    expect(parse('series=probe_ms&from=-1h')).not.toHaveProperty('maxPoints');
  });

  it.each(['5', '1001', '40.5', '-40', 'many', ''])('refuses points=%s naming the parameter and the value', (v) => {
    expect(() => parse(`series=probe_ms&points=${v}`)).toThrow(`points: "${v}" is not a whole number from 10 to 1000`);
  });
});
