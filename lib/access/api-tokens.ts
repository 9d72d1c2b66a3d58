// API tokens for automation: created by an admin, shown once, stored hashed, revocable; every change audited.
import 'server-only';
import { z } from 'zod';
import { conflict, invalidInput, notFound } from '@/lib/errors/domain-errors';
import type { AuditLog } from '@/lib/auth/audit-log';
import { ROLES } from '@/lib/auth/roles';
import { TOKEN_NAME_MAX_LENGTH, type TokenStore } from '@/lib/auth/token-store';
import { auditAction } from './audit-action';
import type { Identity } from './identity';

/** The body of POST /api/tokens. */
export const createTokenInput = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1, 'is required')
    .max(TOKEN_NAME_MAX_LENGTH, `is at most ${TOKEN_NAME_MAX_LENGTH} characters`)
    // The store refuses them too; checked here so the answer is a 400 naming the field.
    .regex(/^\P{Cc}*$/u, 'must not contain control characters'),
  role: z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }),
  expiresAt: z.iso
    .datetime({ offset: true, error: 'must be an ISO time such as 2027-01-31T00:00:00Z' })
    .nullable()
    .optional(),
});

export type CreateTokenInput = z.infer<typeof createTokenInput>;

interface TokenDeps {
  tokens: TokenStore;
  audit: AuditLog;
}

/** Creates a token for `who` (an admin) and audits it; the secret is in the answer only. */
export async function createToken(
  deps: TokenDeps,
  who: Identity,
  body: CreateTokenInput,
  now = Date.now(),
): Promise<{ id: string; token: string }> {
  const expiresAt = body.expiresAt ? Date.parse(body.expiresAt) : null;
  if (expiresAt !== null && expiresAt <= now) throw invalidInput(`expiresAt: ${body.expiresAt} is in the past`);
  const created = await deps.tokens.create({ name: body.name, role: body.role, expiresAt, createdBy: who.actor }, now);
  auditAction(
    deps.audit,
    who,
    'token.create',
    'success',
    { tokenId: created.id, tokenName: body.name, tokenRole: body.role, expiresAt: body.expiresAt ?? null },
    {},
    now,
  );
  return created;
}

const TOKEN_ID = /^[0-9a-f]{16}$/;

export async function revokeToken(deps: TokenDeps, who: Identity, id: string, now = Date.now()): Promise<void> {
  if (!TOKEN_ID.test(id)) throw invalidInput(`"${id.slice(0, 40)}" is not a token id`);
  const known = (await deps.tokens.list(now)).find((t) => t.id === id);
  if (!known) throw notFound(`no token with id "${id}"`);
  if (!(await deps.tokens.revoke(id, now))) throw conflict('already_revoked', `token "${id}" is already revoked`);
  auditAction(deps.audit, who, 'token.revoke', 'success', { tokenId: id, tokenName: known.name }, {}, now);
}
