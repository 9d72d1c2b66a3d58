import { describe, expect, it } from 'vitest';
import { projectGrowth } from './growth';

const MIN = 60_000;
const H = 60 * MIN;
const DAY = 24 * H;
const MiB = 1024 * 1024;
const NOW = Date.UTC(2025, 2, 15, 12, 0, 0);

/** Points every `stepMs` ending at NOW, growing by `perDay` bytes a day from `start` bytes. */
function line(start: number, perDay: number, spanMs: number, stepMs: number): Array<[number, number]> {
  const points: Array<[number, number]> = [];
  for (let t = NOW - spanMs; t <= NOW; t += stepMs) points.push([t, start + (perDay * (t - (NOW - spanMs))) / DAY]);
  return points;
}

describe('projectGrowth', () => {
  it('needs two points spanning at least ten minutes', () => {
    expect(projectGrowth([], 8 * 1024 * MiB, NOW)).toEqual({ kind: 'insufficient-data' });
    expect(projectGrowth([[NOW, 100 * MiB]], 8 * 1024 * MiB, NOW)).toEqual({ kind: 'insufficient-data' });
    expect(projectGrowth(line(100 * MiB, 500 * MiB, 9 * MIN, MIN), 8 * 1024 * MiB, NOW)).toEqual({
      kind: 'insufficient-data',
    });
    expect(projectGrowth(line(100 * MiB, 500 * MiB, 10 * MIN, 10 * MIN), 8 * 1024 * MiB, NOW).kind).toBe(
      'reaches-quota',
    );
  });

  it('projects the days from the latest value to the quota at the fitted rate', () => {
    // 100 MiB a day for a day, from 1 GiB to 1.1 GiB; 2 GiB quota → (2048 - 1124) / 100 days.
    const result = projectGrowth(line(1024 * MiB, 100 * MiB, DAY, 5 * MIN), 2048 * MiB, NOW);
    if (result.kind !== 'reaches-quota') throw new Error(`expected reaches-quota, got ${result.kind}`);
    expect(result.bytesPerDay / MiB).toBeCloseTo(100, 6);
    expect(result.days).toBeCloseTo((2048 - 1124) / 100, 6);
    expect(result.at).toBe(Math.round(NOW + result.days * DAY));
  });

  it('fits through noise rather than taking the last two points', () => {
    // Growing 50 MiB a day with ±5 MiB alternating jitter; the last step alone would look like a drop.
    const points = line(500 * MiB, 50 * MiB, 2 * DAY, H).map(([t, v], i): [number, number] => [
      t,
      v + (i % 2 === 0 ? 5 : -5) * MiB,
    ]);
    const result = projectGrowth(points, 1024 * MiB, NOW);
    expect(result.kind).toBe('reaches-quota');
    if (result.kind === 'reaches-quota') expect(result.bytesPerDay / MiB).toBeCloseTo(50, 0);
  });

  it('counts shrinking or very slow growth as not growing', () => {
    const shrinking = projectGrowth(line(900 * MiB, -200 * MiB, DAY, H), 1024 * MiB, NOW);
    expect(shrinking.kind).toBe('not-growing');
    if (shrinking.kind === 'not-growing') expect(shrinking.bytesPerDay / MiB).toBeCloseTo(-200, 6);

    const slow = projectGrowth(line(900 * MiB, 0.5 * MiB, DAY, H), 1024 * MiB, NOW);
    expect(slow.kind).toBe('not-growing');
    expect(projectGrowth(line(900 * MiB, 0, DAY, H), 1024 * MiB, NOW)).toEqual({ kind: 'not-growing', bytesPerDay: 0 });
  });

  it('says over quota once the latest value has reached it', () => {
    expect(projectGrowth(line(900 * MiB, 200 * MiB, DAY, H), 1024 * MiB, NOW)).toEqual({ kind: 'over-quota' });
    expect(projectGrowth([[NOW, 2048 * MiB]], 1024 * MiB, NOW)).toEqual({ kind: 'over-quota' });
  });

  it('uses the latest point by time, whatever the order of the input', () => {
    const points = line(1024 * MiB, 100 * MiB, DAY, H).reverse();
    const result = projectGrowth(points, 2048 * MiB, NOW);
    if (result.kind !== 'reaches-quota') throw new Error(`expected reaches-quota, got ${result.kind}`);
    expect(result.days).toBeCloseTo((2048 - 1124) / 100, 6);
  });
});
