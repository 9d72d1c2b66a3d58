import { TokensAdmin } from '@/components/auth/tokens-admin';
import { SiteHeader } from '@/components/site-header';
import { dashboard } from '@/lib/app/dashboard';

export const dynamic = 'force-dynamic';

export default async function Page() {
  const viewer = await dashboard().access.requirePage('/tokens');
  const clusters = dashboard().clusters.list();
  return (
    <main className="mx-auto max-w-[2400px] space-y-4 p-4 sm:p-6">
      <SiteHeader clusters={clusters} selected={null} current="/tokens" viewer={viewer} />
      <h2 className="text-xl font-semibold">API tokens</h2>
      {viewer.role === 'admin' ? (
        <TokensAdmin />
      ) : (
        <p role="alert" className="rounded-md bg-amber-100 px-3 py-2 text-amber-950">
          This page needs the admin role; {viewer.actor} is {viewer.role}.
        </p>
      )}
    </main>
  );
}
