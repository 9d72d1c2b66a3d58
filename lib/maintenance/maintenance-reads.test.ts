// What the maintenance API accepts: the POST body (read as the route reads it, so each refusal is the 400 line an
// operator sees) and ?limit= of the consistency history.
import { describe, expect, it } from 'vitest';
import { ApiError } from '@/lib/api/api-error';
import { parseJsonBody } from '@/lib/api/parse-body';
import { DomainError } from '@/lib/errors/domain-errors';
import { IDS } from '@/test/support/observations';
import { maintenanceInput, parseConsistencyQuery, toMaintenanceRequest } from './maintenance-reads';

function post(body: unknown): Request {
  return new Request('http://dashboard.test/api/clusters/prod-eu1/maintenance', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** The request the service gets for this body. */
const accepted = async (body: unknown) => toMaintenanceRequest(await parseJsonBody(post(body), maintenanceInput));

/** The one line of the 400 answer to this body. */
async function refused(body: unknown): Promise<string> {
  const err = await parseJsonBody(post(body), maintenanceInput).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'the body should have been refused').toBeInstanceOf(ApiError);
  expect((err as ApiError).status).toBe(400);
  return (err as ApiError).message;
}

describe('the maintenance body', () => {
  it('gives the service only the fields sent', async () => {
    expect(await accepted({ action: 'compact' })).toStrictEqual({ action: 'compact' });
    expect(await accepted({ action: 'defragment', members: [IDS[2], IDS[0]], dryRun: true })).toStrictEqual({
      action: 'defragment',
      members: [IDS[2], IDS[0]],
      dryRun: true,
    });
    expect(await accepted({ action: 'defragment', members: 'all' })).toStrictEqual({
      action: 'defragment',
      members: 'all',
    });
    expect(await accepted({ action: 'compact', keepRevisions: 0 })).toStrictEqual({
      action: 'compact',
      keepRevisions: 0,
    });
    expect(await accepted({ action: 'compact', revision: 31_337, dryRun: false })).toStrictEqual({
      action: 'compact',
      revision: 31_337,
      dryRun: false,
    });
    expect(await accepted({ action: 'move-leader', target: IDS[1] })).toStrictEqual({
      action: 'move-leader',
      target: IDS[1],
    });
    expect(await accepted({ action: 'nospace-recovery' })).toStrictEqual({ action: 'nospace-recovery' });
    expect(await accepted({ action: 'disarm' })).toStrictEqual({ action: 'disarm' });
  });

  it('an action it does not know, or none: refused, naming action and the ones it knows', async () => {
    for (const body of [{ action: 'reboot' }, {}, { action: 'Defragment' }]) {
      const line = await refused(body);
      expect(line).toMatch(/^action: /);
      expect(line).toContain('move-leader');
    }
  });

  it('move-leader without a target: "target: is required"', async () => {
    expect(await refused({ action: 'move-leader' })).toBe('target: is required for "move-leader"');
  });

  it('a field the action does not use: refused, naming the field and the action that uses it', async () => {
    expect(await refused({ action: 'defragment', target: IDS[1] })).toBe(
      'target: is not used by "defragment" (only move-leader)',
    );
    expect(await refused({ action: 'move-leader', target: IDS[1], members: 'all' })).toBe(
      'members: is not used by "move-leader" (only defragment)',
    );
    expect(await refused({ action: 'nospace-recovery', revision: 100 })).toBe(
      'revision: is not used by "nospace-recovery" (only compact)',
    );
    expect(await refused({ action: 'disarm', keepRevisions: 100 })).toBe(
      'keepRevisions: is not used by "disarm" (only compact)',
    );
  });

  it('more than one of revision, keepRevisions and keepMinutes: refused, asking for one', async () => {
    expect(await refused({ action: 'compact', revision: 100, keepRevisions: 10 })).toBe(
      'keepRevisions: give one of revision, keepRevisions and keepMinutes',
    );
    expect(await refused({ action: 'compact', keepRevisions: 10, keepMinutes: 30 })).toBe(
      'keepMinutes: give one of revision, keepRevisions and keepMinutes',
    );
  });

  it('keepMinutes: compact only, a positive number', async () => {
    expect(await refused({ action: 'defragment', keepMinutes: 5 })).toBe(
      'keepMinutes: is not used by "defragment" (only compact)',
    );
    expect(await refused({ action: 'compact', keepMinutes: 0 })).toMatch(/^keepMinutes: /);
  });

  it('a revision that is not a positive whole number: refused, naming revision', async () => {
    for (const revision of [0, -5, 10.5, '100']) {
      expect(await refused({ action: 'compact', revision })).toMatch(/^revision: /);
    }
    expect(await refused({ action: 'compact', keepRevisions: -1 })).toMatch(/^keepRevisions: /);
  });

  it('member ids in hex as etcdctl prints them; anything else refused, naming which entry', async () => {
    const hex = 'must be a member id in hex, as etcdctl prints it';
    // The decimal form of IDS[0] (as the API's JSON or etcd's logs show it), upper case, too long, a name.
    expect(await refused({ action: 'defragment', members: [IDS[0], '9372538179322589801'] })).toBe(`members.1: ${hex}`);
    expect(await refused({ action: 'defragment', members: ['8211F1D0F64F3269'] })).toBe(`members.0: ${hex}`);
    expect(await refused({ action: 'defragment', members: [`${IDS[0]}0`] })).toBe(`members.0: ${hex}`);
    expect(await refused({ action: 'move-leader', target: 'etcd-1' })).toBe(`target: ${hex}`);
    // A short id is as etcdctl prints one with leading zeros dropped.
    expect(await accepted({ action: 'move-leader', target: 'a1' })).toMatchObject({ target: 'a1' });
  });

  it('an empty member list: refused, naming members', async () => {
    expect(await refused({ action: 'defragment', members: [] })).toMatch(/^members: /);
  });

  it('a field it does not know: refused, naming it', async () => {
    expect(await refused({ action: 'defragment', force: true })).toContain('force');
  });
});

describe('parseConsistencyQuery', () => {
  const limit = (query: string) => parseConsistencyQuery(new URLSearchParams(query));

  function refusal(query: string): DomainError {
    let caught: unknown;
    try {
      limit(query);
    } catch (err) {
      caught = err;
    }
    expect(caught, `?${query} should have been refused`).toBeInstanceOf(DomainError);
    return caught as DomainError;
  }

  it('no limit: the 50 newest checks', () => {
    expect(limit('')).toEqual({ limit: 50 });
  });

  it('1 to 1000, as given', () => {
    expect(limit('limit=1')).toEqual({ limit: 1 });
    expect(limit('limit=250')).toEqual({ limit: 250 });
    expect(limit('limit=1000')).toEqual({ limit: 1000 });
  });

  it('anything else: invalid input, quoting the value', () => {
    for (const value of ['0', '1001', '9999', '-5', '10.5', 'abc', '', '1e3', ' 5']) {
      const err = refusal(`limit=${encodeURIComponent(value)}`);
      expect(err.kind).toBe('invalid');
      expect(err.code).toBe('bad_request');
      expect(err.message).toBe(`limit: "${value}" is not a whole number from 1 to 1000`);
    }
  });

  it('a long value is quoted only in part', () => {
    expect(refusal(`limit=${'9'.repeat(500)}`).message).toBe(
      `limit: "${'9'.repeat(20)}" is not a whole number from 1 to 1000`,
    );
  });
});
