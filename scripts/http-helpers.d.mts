// Types for scripts/http-helpers.mjs (plain JavaScript, run by node in scripts/server.mjs).
export function undecodableSegment(url: string | undefined): string | null;
export function acceptsGzip(header: string | string[] | undefined): boolean;
