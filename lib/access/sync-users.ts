// At start, the local users in the database follow the configuration: the config file's users, and the
// "admin" user whose password DASHBOARD_ADMIN_PASSWORD sets (as Grafana's admin password variable does).
import 'server-only';
import { hashPassword, verifyPassword } from '@/lib/auth/password';
import type { UserStore } from '@/lib/auth/user-store';
import type { SessionStore } from '@/lib/auth/session-store';
import type { AuthConfig } from '@/lib/config/load-config';

export async function syncUsers(auth: AuthConfig, users: UserStore, sessions: SessionStore, now = Date.now()) {
  const fromConfig = new Set(auth.users.map((u) => u.username));
  for (const u of auth.users) {
    const existing = await users.get(u.username);
    if (existing && existing.passwordHash !== u.passwordHash) await sessions.revokeAllFor(u.username);
    await users.upsert({ username: u.username, passwordHash: u.passwordHash, role: u.role, source: 'config' }, now);
  }
  // A user taken out of the file loses access; the env admin and demo users are not the file's to remove.
  for (const u of await users.list()) {
    if (u.source === 'config' && !fromConfig.has(u.username)) await users.remove(u.username);
  }
  // The variable is the env admin's only source: once it is unset, that account goes, its sessions with it (it must not
  // outlive the password an operator removed). Said in the log, as is a variable the file's own "admin" overrides.
  if (auth.adminPassword === null) {
    if ((await users.get('admin'))?.source === 'env' && (await users.remove('admin'))) {
      console.log(
        'etcd-dashboard: DASHBOARD_ADMIN_PASSWORD is not set: the admin account it made is removed and signed out',
      );
    }
    return;
  }
  if (fromConfig.has('admin')) {
    console.log('etcd-dashboard: DASHBOARD_ADMIN_PASSWORD is ignored: the config file defines the user "admin"');
    return;
  }
  const existing = await users.get('admin');
  // Hash only when the password changed, so a restart does not sign the admin out.
  const same = existing !== null && (await verifyPassword(auth.adminPassword, existing.passwordHash));
  if (!same || existing?.role !== 'admin') {
    if (existing) await sessions.revokeAllFor('admin');
    await users.upsert(
      { username: 'admin', passwordHash: await hashPassword(auth.adminPassword), role: 'admin', source: 'env' },
      now,
    );
  }
}
