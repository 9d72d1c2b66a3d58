import { handleRoute, json } from '@/lib/api/route-handler';
import { nocTiles } from '@/lib/alerts/noc-reads';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute((req: Request) => json(nocTiles(req)));
