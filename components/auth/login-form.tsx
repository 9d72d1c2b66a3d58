'use client';

import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { safeNext } from '@/lib/auth/sign-in-next';
import { ApiRequestError, HTTP_ERROR, sendJson } from '@/lib/query/fetch-json';

export function LoginForm({ next }: { next: string | null }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const router = useRouter();

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await sendJson('/api/auth/login', 'POST', { username: form.get('username'), password: form.get('password') });
      router.replace(safeNext(next));
      router.refresh();
    } catch (err) {
      if (!(err instanceof ApiRequestError)) setError('the dashboard is not answering');
      // An answer without the API's error shape (a proxy's page, say) says only its status.
      else setError(err.code === HTTP_ERROR ? `sign-in failed (HTTP ${err.status})` : err.message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="space-y-4" aria-label="Sign in">
      <label className="block text-sm">
        Username
        <input
          name="username"
          autoComplete="username"
          required
          className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 dark:border-slate-700 dark:bg-slate-900"
        />
      </label>
      <label className="block text-sm">
        Password
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          required
          className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 dark:border-slate-700 dark:bg-slate-900"
        />
      </label>
      {error && (
        <p role="alert" data-testid="login-error" className="text-sm text-red-700 dark:text-red-400">
          {error}
        </p>
      )}
      <button
        type="submit"
        disabled={busy}
        className="w-full rounded-md bg-sky-700 px-3 py-2 font-semibold text-white hover:bg-sky-800 disabled:opacity-60"
      >
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
