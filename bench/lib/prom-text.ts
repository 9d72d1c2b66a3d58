// Reading a counter from etcd's own /metrics, to count what the dashboard asks of it.

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

/** A member's plain-HTTP /metrics (--listen-metrics-urls) as text. */
export async function fetchMetrics(metricsUrl: string): Promise<string> {
  const res = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${metricsUrl}/metrics: HTTP ${res.status}`);
  return res.text();
}
