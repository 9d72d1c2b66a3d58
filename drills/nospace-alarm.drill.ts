// A real NOSPACE alarm: a 3-member cluster with a 1 MiB quota, written to until etcd refuses. The page shows the
// alarm with its remedy and stays fresh; following that remedy (delete, compact, defragment, disarm) clears it,
// and both the alarm and its clearing are in the event history.
import { expect, test } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { waitForStatus } from '../e2e/support/status-api';
import { CLUSTER_ID } from './support/drill-stack';
import { readEvents } from './support/events';
import { expectApiStaysFresh, expectPageStaysFresh } from './support/freshness';
import { healthyDrill } from './support/healthy-drill';

test(
  'NOSPACE: the alarm and its remedy on a fresh page; the remedy followed, the alarm is gone',
  healthyDrill(
    'nospace-alarm',
    async ({ stack, page }) => {
      await expect(page.getByTestId('alarm-banner')).toHaveCount(0);

      // Random values, so nothing compresses them below the quota.
      const value = randomBytes(45_000).toString('base64');
      let refused = false;
      for (let i = 0; i < 100 && !refused; i++) {
        try {
          stack.etcdctl(['put', `/fill/${i}`], value);
        } catch (err) {
          refused = String((err as { stderr?: string }).stderr).includes('database space exceeded');
          if (!refused) throw err;
        }
      }
      expect(refused, 'etcd must refuse writes once the quota is reached').toBe(true);

      const { status } = await waitForStatus(stack.api, (s) => s.alarms.length > 0, 15_000, CLUSTER_ID);
      expect(status.alarms.every((a) => a.alarm === 'NOSPACE')).toBe(true);
      // Each member under the alarm is unhealthy, with the alarm as the reason; the dashboard keeps polling.
      const underAlarm = (s: typeof status) =>
        s.alarms.length === 0
          ? 'the alarm is gone'
          : (s.alarms
              .map((a) => s.members.find((m) => m.id === a.memberId))
              .map((m) =>
                m?.health === 'unhealthy' && m.error === 'alarm active: NOSPACE' ? null : `${m?.name}: ${m?.error}`,
              )
              .find((x) => x !== null) ?? null);
      await waitForStatus(stack.api, (s) => underAlarm(s) === null, 15_000, CLUSTER_ID);
      const alarmed = await expectApiStaysFresh(stack.api, underAlarm, 3);

      const banner = page.getByTestId('alarm-banner');
      await expect(banner).toBeVisible();
      await expect(banner).toContainText('NOSPACE');
      await expect(banner).toContainText('etcdctl alarm disarm');
      await expect(page.getByTestId('quorum-card')).toContainText('An alarm is active (NOSPACE)');
      const alarmedNames = alarmed.alarms.map((a) => alarmed.members.find((m) => m.id === a.memberId)!.name);
      await expectPageStaysFresh(page, Object.fromEntries(alarmedNames.map((n) => [n, 'unhealthy'] as const)));

      // The remedy the banner gives: free space (deletes are still allowed), compact, defragment each member, disarm.
      stack.etcdctl(['del', '--prefix', '/fill/']);
      const revision = (JSON.parse(stack.etcdctl(['get', 'x', '-w', 'json'])) as { header: { revision: number } })
        .header.revision;
      stack.etcdctl(['compaction', String(revision), '--physical']);
      stack.etcdctl(['defrag', '--cluster']);
      stack.etcdctl(['alarm', 'disarm']);

      await waitForStatus(stack.api, (s) => s.alarms.length === 0 && s.quorum.state === 'healthy', 20_000, CLUSTER_ID);
      await expect(banner).toHaveCount(0);
      await expectPageStaysFresh(page, Object.fromEntries(alarmed.members.map((m) => [m.name, 'healthy'] as const)));
      // Writes work again.
      stack.etcdctl(['put', '/after-the-alarm', 'ok']);
      await expect
        .poll(async () => {
          const types = (await readEvents(stack.api, ['alarm_raised', 'alarm_cleared'])).map((e) => e.type);
          return [types.includes('alarm_raised'), types.at(-1)];
        })
        .toEqual([true, 'alarm_cleared']);
    },
    { quotaBackendBytes: 1024 * 1024 },
  ),
);
