// One audit row for something an identified caller did.
import 'server-only';
import type { AuditOutcome } from '@/lib/auth/audit-log';
import { getRuntime } from '@/lib/collector/runtime';
import type { Identity } from './identity';

export function auditAction(
  who: Identity,
  action: string,
  outcome: AuditOutcome,
  details: Record<string, unknown> = {},
  target: { clusterId?: string | null; memberId?: string | null } = {},
  at = Date.now(),
): void {
  getRuntime().auth.audit.append({
    at,
    actor: who.actor,
    role: who.role,
    method: who.method,
    source: who.source,
    action,
    outcome,
    details,
    ...target,
  });
}
