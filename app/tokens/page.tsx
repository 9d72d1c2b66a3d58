import { TokensAdmin } from '@/components/auth/tokens-admin';
import { SiteHeader } from '@/components/site-header';
import { requirePageIdentity } from '@/lib/access/page-identity';
import { listClusters } from '@/lib/collector/cluster-reads';

export const dynamic = 'force-dynamic';

export default async function Page() {
  const viewer = await requirePageIdentity('/tokens');
  const clusters = listClusters();
  return (
    <main className="mx-auto max-w-7xl space-y-4 p-4 sm:p-6">
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
