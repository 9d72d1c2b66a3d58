import { LoginForm } from '@/components/auth/login-form';

export const dynamic = 'force-dynamic';

export default async function LoginPage({ searchParams }: PageProps<'/login'>) {
  const next = (await searchParams).next;
  return (
    <main className="mx-auto mt-24 max-w-sm space-y-6 p-6">
      <h1 className="text-2xl font-bold">etcd health · sign in</h1>
      <LoginForm next={typeof next === 'string' ? next : null} />
    </main>
  );
}
