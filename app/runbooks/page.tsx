import { SiteHeader } from '@/components/site-header';
import { RULE_TITLES } from '@/lib/alerts/alert-groups';
import { alertName } from '@/lib/alerts/alert-names';
import { RULES } from '@/lib/alerts/rules';
import { dashboard } from '@/lib/app/dashboard';
import { RULE_NAMES } from '@/lib/cluster/thresholds';
import { formatAge } from '@/lib/format/units';

export const dynamic = 'force-dynamic';

/**
 * What each alert means and what to do, one entry per rule under its alertname: the page an alert's runbook_url
 * (Alertmanager) and the overview's "Runbook" links open.
 */
export default async function Page() {
  const viewer = await dashboard().access.requirePage('/runbooks');
  const clusters = dashboard().clusters.list();
  return (
    <main className="mx-auto max-w-[2400px] space-y-4 p-4 sm:p-6">
      <SiteHeader clusters={clusters} selected={null} current="/runbooks" viewer={viewer} />
      <h2 className="text-xl font-semibold">Alert runbooks</h2>
      <p className="max-w-3xl text-sm text-slate-700 dark:text-slate-300">
        Every alert the dashboard raises, under the name Alertmanager and /metrics give it, with how long its condition
        must hold before it fires (the default; a cluster&apos;s <code>alerts.thresholds.forSeconds</code> may change
        it) and what to do.
      </p>
      <ul className="grid gap-3 xl:grid-cols-2 min-[2400px]:grid-cols-3">
        {RULE_NAMES.map((rule) => {
          const name = alertName(rule);
          const forMs = RULES[rule].forSeconds * 1000;
          return (
            <li
              key={rule}
              id={name}
              data-testid="runbook"
              className="scroll-mt-4 rounded-md border border-slate-300 p-3 target:border-sky-600 target:ring-2 target:ring-sky-600 dark:border-slate-700"
            >
              <h3 className="text-base font-semibold">{RULE_TITLES[rule]}</h3>
              <p className="text-sm text-slate-600 dark:text-slate-400">
                <code className="break-all">{name}</code> · rule <code>{rule}</code> ·{' '}
                {forMs > 0 ? `fires after ${formatAge(forMs)}` : 'fires at once'}
              </p>
              <p className="mt-1 max-w-3xl text-sm">{RULES[rule].advice}</p>
            </li>
          );
        })}
      </ul>
    </main>
  );
}
