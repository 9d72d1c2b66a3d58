// Liveness: the process answers. Nothing else is checked, so a bad configuration or a slow etcd never gets the
// dashboard restarted in a loop (/readyz says what is wrong).
export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export function GET(): Response {
  return Response.json({ ok: true }, { headers: { 'Cache-Control': 'no-store' } });
}
