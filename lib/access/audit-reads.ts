// The audit log API's filters, read from the query string and validated; newest first.
import 'server-only';
import { invalidInput } from '@/lib/errors/domain-errors';
import { AUDIT_OUTCOMES, type AuditQuery, type AuditOutcome } from '@/lib/auth/audit-log';
import { parseTimeRange } from '@/lib/history/time-range';

export function parseAuditQuery(params: URLSearchParams, now = Date.now()): AuditQuery {
  const range = parseTimeRange({ from: params.get('from'), to: params.get('to') }, now, '-7d');
  const outcome = params.get('outcome');
  if (outcome !== null && !(AUDIT_OUTCOMES as readonly string[]).includes(outcome)) {
    throw invalidInput(`outcome: "${outcome.slice(0, 40)}" is not one of ${AUDIT_OUTCOMES.join(', ')}`);
  }
  const limitText = params.get('limit');
  const limit = limitText === null ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000)) {
    throw invalidInput(`limit: "${limitText?.slice(0, 20)}" is not a whole number from 1 to 1000`);
  }
  return {
    ...range,
    ...(params.get('actor') ? { actor: params.get('actor') as string } : {}),
    ...(params.get('action') ? { action: params.get('action') as string } : {}),
    ...(outcome ? { outcome: outcome as AuditOutcome } : {}),
    ...(limit !== undefined ? { limit } : {}),
  };
}
