// API tokens for automation: created by an admin, shown once, stored hashed, revocable; every change audited.
import 'server-only';
import { z } from 'zod';
import { ApiError, badRequest, notFound } from '@/lib/api/api-error';
import { parseJsonBody } from '@/lib/api/parse-body';
import { ROLES } from '@/lib/auth/roles';
import { TOKEN_NAME_MAX_LENGTH, type TokenInfo } from '@/lib/auth/token-store';
import { getRuntime } from '@/lib/collector/runtime';
import { audited, auditAction } from './audit-action';
import { requireRole } from './guard';

const createSchema = z.strictObject({
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

export async function createToken(req: Request, now = Date.now()): Promise<{ id: string; token: string }> {
  const who = requireRole(req, 'admin', { action: 'token.create' });
  return audited(who, 'token.create', {}, async () => {
    const { auth } = getRuntime();
    const body = await parseJsonBody(req, createSchema);
    const expiresAt = body.expiresAt ? Date.parse(body.expiresAt) : null;
    if (expiresAt !== null && expiresAt <= now) throw badRequest(`expiresAt: ${body.expiresAt} is in the past`);
    const created = auth.tokens.create({ name: body.name, role: body.role, expiresAt, createdBy: who.actor }, now);
    auditAction(
      who,
      'token.create',
      'success',
      { tokenId: created.id, tokenName: body.name, tokenRole: body.role, expiresAt: body.expiresAt ?? null },
      {},
      now,
    );
    return created;
  });
}

export function listTokens(req: Request, now = Date.now()): TokenInfo[] {
  requireRole(req, 'admin');
  return getRuntime().auth.tokens.list(now);
}

const TOKEN_ID = /^[0-9a-f]{16}$/;

export async function revokeToken(req: Request, id: string, now = Date.now()): Promise<void> {
  const who = requireRole(req, 'admin', { action: 'token.revoke' });
  await audited(who, 'token.revoke', {}, () => {
    if (!TOKEN_ID.test(id)) throw badRequest(`"${id.slice(0, 40)}" is not a token id`);
    const { auth } = getRuntime();
    const known = auth.tokens.list(now).find((t) => t.id === id);
    if (!known) throw notFound(`no token with id "${id}"`);
    if (!auth.tokens.revoke(id, now)) throw new ApiError(409, 'already_revoked', `token "${id}" is already revoked`);
    auditAction(who, 'token.revoke', 'success', { tokenId: id, tokenName: known.name }, {}, now);
  });
}
