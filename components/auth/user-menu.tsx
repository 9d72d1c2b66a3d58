'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { sendJson } from '@/lib/query/fetch-json';

export function UserMenu({ actor, role, canSignOut }: { actor: string; role: string; canSignOut: boolean }) {
  const [busy, setBusy] = useState(false);
  const router = useRouter();
  async function signOut() {
    setBusy(true);
    await sendJson('/api/auth/logout', 'POST').catch(() => null);
    router.replace('/login');
    router.refresh();
  }
  return (
    <div data-testid="user-menu" className="flex items-center gap-2 text-sm">
      <span>
        {actor} <span className="rounded bg-slate-200 px-1.5 py-0.5 text-xs dark:bg-slate-800">{role}</span>
      </span>
      {canSignOut ? (
        <button type="button" onClick={signOut} disabled={busy} className="text-sky-700 underline dark:text-sky-400">
          sign out
        </button>
      ) : (
        <a href="/login" className="text-sky-700 underline dark:text-sky-400">
          sign in
        </a>
      )}
    </div>
  );
}
