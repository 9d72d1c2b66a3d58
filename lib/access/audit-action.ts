// Audit rows for what an identified caller did: one written by the action itself, or its failure when it throws.
import 'server-only';
import { failureDetails } from '@/lib/api/api-error';
import type { AuditLog, AuditOutcome } from '@/lib/auth/audit-log';
import type { Identity } from './identity';

type Target = { clusterId?: string | null; memberId?: string | null };

/**
 * The identity's own audit details: an API token is named by its id too (actorTokenId), since two tokens may share a
 * name; `tokenId` stays free for the token an action is about.
 */
export const identityDetails = (who: Identity): Record<string, unknown> =>
  who.tokenId ? { actorTokenId: who.tokenId } : {};

export function auditAction(
  audit: AuditLog,
  who: Identity,
  action: string,
  outcome: AuditOutcome,
  details: Record<string, unknown> = {},
  target: Target = {},
  at = Date.now(),
): void {
  audit.append({
    at,
    actor: who.actor,
    role: who.role,
    method: who.method,
    source: who.source,
    action,
    outcome,
    details: { ...identityDetails(who), ...details },
    ...target,
  });
}

/**
 * Runs an audited action for `who`. The action writes its own row when it succeeds (with what it did); when it throws
 * (a bad body, a conflict, a 500), the failure is written here with the status and code the caller gets, then rethrown.
 */
export async function audited<T>(
  audit: AuditLog,
  who: Identity,
  action: string,
  target: Target,
  run: () => Promise<T> | T,
): Promise<T> {
  try {
    return await run();
  } catch (err) {
    auditAction(audit, who, action, 'failure', failureDetails(err), target);
    throw err;
  }
}
