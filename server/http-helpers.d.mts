// Types for server/http-helpers.mjs (plain JavaScript, run by node in server/server.mjs).
export function undecodableSegment(url: string | undefined): string | null;
export function acceptsGzip(header: string | string[] | undefined): boolean;
export const MAX_API_BODY_BYTES: number;
export function declaresOversizedApiBody(url: string | undefined, contentLength: string | undefined): boolean;
export const REFUSED_BODY_DROP: Readonly<{ maxBytes: number; maxMs: number }>;
export function dropRefusedBody(
  req: import('node:http').IncomingMessage,
  limits?: { maxBytes: number; maxMs: number },
): Promise<void>;
export function methodFetchRefuses(method: string | undefined): boolean;
export interface ServerTimeouts {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
}
export const SERVER_TIMEOUTS: Readonly<ServerTimeouts>;
export function createTimedServer(
  handler: import('node:http').RequestListener,
  timeouts?: ServerTimeouts,
): import('node:http').Server;
