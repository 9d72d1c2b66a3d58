// The hottest read, GET /api/clusters/{id}/status, answered without Next.js's route machinery: every open page
// polls it once a second, and under a hundred eager clients Next's per-request work (Web Request/Response objects,
// the async context, the streaming body) is most of the CPU. server/server.mjs calls this through globalThis for
// exactly that path and method; it makes the same access check as the route handler (requireRoleIn, one
// implementation), reads the same status and answers in the same error shape. Everything else goes to Next.js.
import 'server-only';
import { contextOf, type HeaderReader } from '@/lib/access/request-context';
import { errorAnswer } from '@/lib/api/route-handler';
import { dashboard } from './dashboard';

export interface FastAnswer {
  status: number;
  /** JSON text. */
  body: string;
  /** Headers beyond Content-Type, Cache-Control and the security headers every API answer carries. */
  headers: Record<string, string>;
}

export interface FastRoutes {
  /** `headers` as Node parses them (lower-case names); `clusterId` already percent-decoded. */
  clusterStatus(headers: NodeHeaders, clusterId: string, path: string): Promise<FastAnswer>;
}

export type NodeHeaders = Record<string, string | string[] | undefined>;

export const FAST_ROUTES_KEY = Symbol.for('etcd-dashboard.fast-routes');

/** Node's parsed headers read the way a Fetch `Headers` reads them (repeated values joined with ", "). */
export function nodeHeaderReader(headers: NodeHeaders): HeaderReader {
  return {
    get(name: string): string | null {
      const v = headers[name.toLowerCase()];
      if (v === undefined) return null;
      return Array.isArray(v) ? v.join(', ') : v;
    },
  };
}

export async function clusterStatus(headers: NodeHeaders, clusterId: string, path: string): Promise<FastAnswer> {
  try {
    const app = dashboard();
    await app.access.requireRoleIn(contextOf('GET', nodeHeaderReader(headers)), () => `GET ${path}`, 'viewer');
    return { status: 200, body: JSON.stringify(app.clusters.status(clusterId)), headers: {} };
  } catch (err) {
    const { status, body, headers: extra } = errorAnswer(err);
    return { status, body: JSON.stringify(body), headers: extra };
  }
}

/** Called once the dashboard has started (instrumentation.ts); until then server.mjs sends everything to Next.js. */
export function registerFastRoutes(): void {
  const routes: FastRoutes = { clusterStatus };
  (globalThis as { [FAST_ROUTES_KEY]?: FastRoutes })[FAST_ROUTES_KEY] = routes;
}
