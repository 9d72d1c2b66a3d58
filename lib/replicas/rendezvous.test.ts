import { describe, expect, it } from 'vitest';
import { assignOwners, ownerOf } from './rendezvous';

const CLUSTERS = Array.from({ length: 300 }, (_, i) => `cluster-${i}`);
const REPLICAS = ['replica-a', 'replica-b', 'replica-c'];

function counts(owners: Map<string, string>): Map<string, number> {
  const n = new Map<string, number>();
  for (const o of owners.values()) n.set(o, (n.get(o) ?? 0) + 1);
  return n;
}

describe('rendezvous hashing', () => {
  it('gives every cluster one owner, each of 3 replicas about a third of 300', () => {
    const owners = assignOwners(CLUSTERS, REPLICAS);
    expect(owners.size).toBe(300);
    const n = counts(owners);
    expect([...n.keys()].sort()).toEqual(REPLICAS);
    // A fair split is 100 each; binomial(300, 1/3) stays within ±25 far beyond 3 sigma (8.2).
    for (const c of n.values()) expect(Math.abs(c - 100)).toBeLessThanOrEqual(25);
  });

  it('moves only the clusters of a replica that dies, and spreads them over the others', () => {
    const before = assignOwners(CLUSTERS, REPLICAS);
    const after = assignOwners(CLUSTERS, ['replica-a', 'replica-c']);
    const moved = CLUSTERS.filter((c) => before.get(c) !== after.get(c));
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((c) => before.get(c) === 'replica-b')).toBe(true);
    expect(moved.length).toBe(counts(before).get('replica-b'));
    const heirs = counts(new Map(moved.map((c) => [c, after.get(c) ?? ''])));
    expect(heirs.get('replica-a')).toBeGreaterThan(0);
    expect(heirs.get('replica-c')).toBeGreaterThan(0);
  });

  it('moves to a replica that joins only clusters it takes, about a quarter', () => {
    const before = assignOwners(CLUSTERS, REPLICAS);
    const after = assignOwners(CLUSTERS, [...REPLICAS, 'replica-d']);
    const moved = CLUSTERS.filter((c) => before.get(c) !== after.get(c));
    expect(moved.every((c) => after.get(c) === 'replica-d')).toBe(true);
    expect(moved.length).toBeGreaterThan(50);
    expect(moved.length).toBeLessThan(100);
  });

  it('answers the same whatever the order (or repeats) of the replicas it is given', () => {
    const a = assignOwners(CLUSTERS, REPLICAS);
    expect(assignOwners(CLUSTERS, [...REPLICAS].reverse())).toEqual(a);
    expect(assignOwners(CLUSTERS, ['replica-c', 'replica-a', 'replica-b', 'replica-a'])).toEqual(a);
  });

  it('has no owner without replicas, and the only one with one', () => {
    expect(ownerOf('prod', [])).toBeNull();
    expect(assignOwners(CLUSTERS, []).size).toBe(0);
    expect(ownerOf('prod', ['solo'])).toBe('solo');
  });
});
