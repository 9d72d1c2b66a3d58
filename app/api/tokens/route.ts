import { createToken, listTokens } from '@/lib/access/api-tokens';
import { handleRoute, json } from '@/lib/api/route-handler';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = handleRoute((req: Request) => json({ tokens: listTokens(req) }));
export const POST = handleRoute(async (req: Request) => json(await createToken(req), 201));
