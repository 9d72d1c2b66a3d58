// Any other /api path: the one error shape, not an HTML page.
import { errorResponse } from '@/lib/api/route-handler';

export const dynamic = 'force-dynamic';

const notFound = (req: Request) => errorResponse(404, 'not_found', `no API route ${new URL(req.url).pathname}`);

export const GET = notFound;
export const POST = notFound;
export const PUT = notFound;
export const PATCH = notFound;
export const DELETE = notFound;
