// react-query resources of the admin pages: API tokens and the audit log.
import { queryOptions } from '@tanstack/react-query';
import type { AuditEntry } from '@/lib/auth/audit-log';
import { fetchJson } from './fetch-json';

/** A token as GET /api/tokens lists it (never the secret). */
export interface TokenRow {
  id: string;
  name: string;
  role: string;
  createdBy: string;
  createdAt: number | string;
  expiresAt: number | string | null;
  revokedAt: number | string | null;
  lastUsedAt: number | string | null;
  state: 'active' | 'expired' | 'revoked';
}

export const tokensQuery = queryOptions({
  queryKey: ['tokens'],
  queryFn: ({ signal }) => fetchJson<{ tokens: TokenRow[] }>('/api/tokens', signal),
});

/** The audit page's filters; an empty one is left out of the request. */
export interface AuditFilters {
  from: string;
  actor: string;
  action: string;
  outcome: string;
}

export function auditQuery(filters: AuditFilters) {
  const params = new URLSearchParams(Object.entries(filters).filter(([, v]) => v !== ''));
  return queryOptions({
    queryKey: ['audit', params.toString()],
    queryFn: ({ signal }) => fetchJson<{ entries: AuditEntry[] }>(`/api/audit?${params}`, signal),
    refetchInterval: 10_000,
  });
}
