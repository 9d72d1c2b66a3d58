// Reading a counter from a /metrics page: etcd's own (what the dashboard asks of it) or the dashboard's.

// One counter family summed with a regex instead of a Prometheus text-format parser: the exposition format puts
// each sample on its own line as `name{labels} value`, and that is all this needs. Not a general parser.
export function sumCounter(text: string, family: string): number {
  const re = new RegExp(`^${family}(?:\\{[^}]*\\})?\\s+(\\S+)`, 'gm');
  let sum = 0;
  for (const m of text.matchAll(re)) {
    const v = Number(m[1]);
    if (!Number.isFinite(v)) throw new Error(`${family}: unreadable value "${m[1]}"`);
    sum += v;
  }
  return sum;
}

/** The /metrics under `metricsUrl` as text: a member's plain-HTTP one (--listen-metrics-urls) or the dashboard's. */
export async function fetchMetrics(metricsUrl: string): Promise<string> {
  const res = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${metricsUrl}/metrics: HTTP ${res.status}`);
  return res.text();
}
