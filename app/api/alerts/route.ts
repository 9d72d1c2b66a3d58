import { handleRoute, json } from '@/lib/api/route-handler';
import { listAlerts } from '@/lib/alerts/alert-requests';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute((req: Request) => json(listAlerts(req)));
