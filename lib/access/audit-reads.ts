// The audit log API for admins: filters validated, newest first.
import 'server-only';
import { badRequest } from '@/lib/api/api-error';
import { AUDIT_OUTCOMES, type AuditEntry, type AuditOutcome } from '@/lib/auth/audit-log';
import { parseTimeRange } from '@/lib/history/time-range';
import { getRuntime } from '@/lib/collector/runtime';
import { requireRole } from './guard';

export function readAudit(req: Request, now = Date.now()): AuditEntry[] {
  requireRole(req, 'admin');
  const params = new URL(req.url).searchParams;
  const range = parseTimeRange({ from: params.get('from'), to: params.get('to') }, now, '-7d');
  const outcome = params.get('outcome');
  if (outcome !== null && !(AUDIT_OUTCOMES as readonly string[]).includes(outcome)) {
    throw badRequest(`outcome: "${outcome.slice(0, 40)}" is not one of ${AUDIT_OUTCOMES.join(', ')}`);
  }
  const limitText = params.get('limit');
  const limit = limitText === null ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000)) {
    throw badRequest(`limit: "${limitText?.slice(0, 20)}" is not a whole number from 1 to 1000`);
  }
  return getRuntime().auth.audit.query({
    ...range,
    ...(params.get('actor') ? { actor: params.get('actor') as string } : {}),
    ...(params.get('action') ? { action: params.get('action') as string } : {}),
    ...(outcome ? { outcome: outcome as AuditOutcome } : {}),
    ...(limit !== undefined ? { limit } : {}),
  });
}
