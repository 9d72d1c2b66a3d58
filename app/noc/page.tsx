import type { Metadata } from 'next';
import { NocWall } from '@/components/noc/noc-wall';
import { dashboard } from '@/lib/app/dashboard';

export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'etcd · NOC' };

export default async function NocPage() {
  // With anonymous viewing on, a wall screen never sees a login prompt.
  await dashboard().access.requirePage('/noc');
  return <NocWall />;
}
