// Pages ask who is looking the same way route handlers do; without an identity they send the browser to sign in.
import 'server-only';
import { headers } from 'next/headers';
import { redirect } from 'next/navigation';
import type { AccessDeps } from './access-deps';
import { resolveIdentity, type Identity } from './identity';
import { contextOf } from './request-context';

export async function requirePageIdentity(deps: AccessDeps, path: string): Promise<Identity> {
  const result = await resolveIdentity(deps, contextOf('GET', new Headers(await headers())));
  if (!result.identity) redirect(`/login?next=${encodeURIComponent(path)}`);
  return result.identity;
}
