// Readiness: 200 when the dashboard can serve (configuration loaded, database writable, every cluster polled once),
// else 503 with the check that failed. Anonymous, as probes are: the answer holds no paths or secrets.
import { dashboard } from '@/lib/app/dashboard';
import { readiness } from '@/lib/app/readiness';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export async function GET(): Promise<Response> {
  const headers = { 'Cache-Control': 'no-store' };
  let app;
  try {
    app = dashboard();
  } catch {
    const checks = [{ name: 'config', ok: false, detail: 'the configuration does not load (see the dashboard log)' }];
    return Response.json({ ready: false, checks }, { status: 503, headers });
  }
  const r = await readiness(app);
  return Response.json(r, { status: r.ready ? 200 : 503, headers });
}
