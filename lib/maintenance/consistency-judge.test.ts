// The verdict on the members' HashKV answers at one revision: do they agree, and if not, which member stands apart.
import { describe, expect, it } from 'vitest';
import { hashKVs, IDS, memberId } from '@/test/support/observations';
import { judgeHashes } from './consistency-check';

const A = 0x5e1f_0a11;
const B = 0x0bad_da7a;
const C = 0x7777_0001;

describe('judgeHashes', () => {
  it('every member has the same hash: they agree, with nothing to add', () => {
    expect(judgeHashes(hashKVs([A, A, A]))).toEqual({ agree: true, suspect: null, note: null });
  });

  it('one of 3 differs: they disagree, and that member is the suspect', () => {
    expect(judgeHashes(hashKVs([A, B, A]))).toEqual({
      agree: false,
      suspect: IDS[1],
      note: 'etcd-1 differs from the other 2 members',
    });
  });

  it('one of 5 differs: that member is the suspect', () => {
    expect(judgeHashes(hashKVs([A, A, A, A, C]))).toEqual({
      agree: false,
      suspect: memberId(4),
      note: 'etcd-4 differs from the other 4 members',
    });
  });

  it('two of 3 answered, with the same hash: they agree, and the note says one was not compared', () => {
    expect(judgeHashes(hashKVs([A, null, A]))).toEqual({
      agree: true,
      suspect: null,
      note: '2 of 3 members compared (1 did not answer)',
    });
  });

  it('fewer than two answered: nothing to compare, neither agree nor disagree', () => {
    expect(judgeHashes(hashKVs([A, null, null]))).toEqual({
      agree: null,
      suspect: null,
      note: '1 of 3 members answered: nothing to compare',
    });
    expect(judgeHashes(hashKVs([null, null, null]))).toMatchObject({ agree: null, suspect: null });
    expect(judgeHashes([])).toMatchObject({ agree: null, suspect: null });
  });

  it('different compact revisions (a compaction being applied): not compared, even with differing hashes', () => {
    const verdict = judgeHashes(hashKVs([A, B, A], [1_000, 1_200, 1_000]));
    expect(verdict).toEqual({
      agree: null,
      suspect: null,
      note: 'the members report different compact revisions (a compaction was being applied): compared next time',
    });
  });

  it('a member that did not answer does not count as a different compact revision', () => {
    expect(judgeHashes(hashKVs([A, A, null], [1_000, 1_000, 5]))).toMatchObject({ agree: true });
  });

  it('two answered of 3 and they differ: disagree, but no majority names a suspect', () => {
    expect(judgeHashes(hashKVs([A, B, null]))).toEqual({
      agree: false,
      suspect: null,
      note: "the members' hashes differ and no majority agrees (1 did not answer)",
    });
  });

  it('three different hashes of 3: disagree, no suspect', () => {
    expect(judgeHashes(hashKVs([A, B, C]))).toEqual({
      agree: false,
      suspect: null,
      note: "the members' hashes differ and no majority agrees",
    });
  });

  it('2 against 2 of 4: disagree, no suspect', () => {
    expect(judgeHashes(hashKVs([A, B, A, B]))).toMatchObject({ agree: false, suspect: null });
  });

  it('2 of 4 agree, the other two each differ: the largest group is no majority, so none is blamed', () => {
    expect(judgeHashes(hashKVs([A, A, B, C]))).toEqual({
      agree: false,
      suspect: null,
      note: "the members' hashes differ and no majority agrees",
    });
  });

  it('3 against 2 of 5: a majority, but two stand apart: disagree, no single suspect, both named', () => {
    expect(judgeHashes(hashKVs([A, B, A, B, A]))).toEqual({
      agree: false,
      suspect: null,
      note: 'etcd-1, etcd-3 differ from the other 3 members',
    });
  });

  it('3 of 5 agree, the other two each differ: no single suspect', () => {
    expect(judgeHashes(hashKVs([A, A, B, A, C]))).toMatchObject({ agree: false, suspect: null });
  });

  it('4 of 5 answered, one differs from the other 3: that member is the suspect, and the silent one is noted', () => {
    expect(judgeHashes(hashKVs([A, null, A, A, B]))).toEqual({
      agree: false,
      suspect: memberId(4),
      note: 'etcd-4 differs from the other 3 members (1 did not answer)',
    });
  });

  it('3 of 5 answered, one differs from the other 2: a strict majority of those that answered, so a suspect', () => {
    expect(judgeHashes(hashKVs([A, null, B, null, A]))).toMatchObject({ agree: false, suspect: IDS[2] });
  });
});
