// The probes a container platform uses: /healthz (the process answers) and /readyz (configuration, database, first
// poll of every cluster), both anonymous, without paths or secrets in the answer.
import { expect, test } from '@playwright/test';

test('/healthz answers 200; /readyz is ready once every cluster has been polled, and names its checks', async ({
  request,
}) => {
  const live = await request.get('/healthz');
  expect(live.status()).toBe(200);
  expect(await live.json()).toEqual({ ok: true });
  expect(live.headers()['cache-control']).toContain('no-store');

  await expect
    .poll(async () => (await request.get('/readyz')).status(), { timeout: 30_000, message: 'the dashboard ready' })
    .toBe(200);
  const ready = (await (await request.get('/readyz')).json()) as {
    ready: boolean;
    checks: Array<{ name: string; ok: boolean; detail: string }>;
  };
  expect(ready.ready).toBe(true);
  expect(ready.checks.map((c) => c.name)).toEqual([
    'config',
    'database',
    'first-poll',
    'maintenance',
    'leader',
    'shards',
    'event-loop',
    'restore-tests',
  ]);
  // One process on SQLite leads at once and polls every cluster itself.
  const detail = (name: string) => ready.checks.find((c) => c.name === name)?.detail;
  expect(detail('leader')).toMatch(/^replica \S+ leads \(generation \d+\)$/);
  expect(detail('shards')).toMatch(/^polls (\d+) of \1 cluster\(s\) for the record$/);
  expect(detail('event-loop')).toMatch(
    /^held up at most \d+ ms in the last 30 s(; \d+ poll\(s\) not shown since start because of it)?$/,
  );
  expect(ready.checks.every((c) => c.ok)).toBe(true);
  expect(JSON.stringify(ready)).not.toMatch(/\/(tmp|root|home|work)\//);
});
