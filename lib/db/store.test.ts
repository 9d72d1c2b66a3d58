// The store as the dashboard opens it from its configuration: a PostgreSQL that comes up a moment after the dashboard
// is waited for; one that never does is a one-line error without the password; readiness hears when it goes away.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgresTestParent, startPostgres, type PostgresServer } from '@/scripts/lib/postgres';
import { DatabaseError } from './database';
import { openStore } from './store';

const PG_PORT = 25923;
let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres({ parent: postgresTestParent(), port: PG_PORT });
}, 120_000);
afterAll(async () => {
  await server?.destroy();
});

const password = () => new URL(server.url).password;

describe('openStore on PostgreSQL', () => {
  it('waits for a PostgreSQL that starts after the dashboard, then migrates and takes writes', async () => {
    await server.stop();
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const opening = openStore({ engine: 'postgresql', url: server.url }, { waitMs: 60_000 });
    try {
      // Refused once, and saying so, before PostgreSQL comes up.
      await expect
        .poll(() => log.mock.calls.flat().join('\n'), { timeout: 10_000 })
        .toMatch(/waiting for the dashboard database .*cannot connect/);
    } finally {
      log.mockRestore();
    }
    await server.start();
    const store = await opening;
    try {
      expect(store.engine).toBe('postgresql');
      expect(store.description).toContain('***');
      expect(store.description).not.toContain(password());
      expect(await store.writable()).toEqual({ ok: true, detail: 'the dashboard database takes writes' });
      await server.kill();
      expect(await store.writable()).toEqual({ ok: false, detail: 'the dashboard database does not answer' });
      await server.start();
      // The pool's dead connections are replaced: the store answers again without being reopened.
      await expect
        .poll(() => store.writable(), { timeout: 20_000, interval: 200 })
        .toEqual({ ok: true, detail: 'the dashboard database takes writes' });
    } finally {
      await store.close();
    }
  }, 120_000);

  it('gives up on a PostgreSQL that never answers with one line naming it, its password masked', async () => {
    const url = server.url.replace(`:${PG_PORT}/`, ':1/');
    const err = await openStore({ engine: 'postgresql', url }, { waitMs: 1500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseError);
    const message = (err as Error).message;
    expect(message).toMatch(
      /^dashboard database postgres:\/\/dashboard:\*\*\*@127\.0\.0\.1:1\/postgres: cannot connect: .*ECONNREFUSED/,
    );
    expect(message).not.toContain(password());
    expect(message).not.toContain('\n');
  });
});
