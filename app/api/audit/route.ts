import { readAudit } from '@/lib/access/audit-reads';
import { handleRoute, json } from '@/lib/api/route-handler';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute((req: Request) => json({ entries: readAudit(req) }));
