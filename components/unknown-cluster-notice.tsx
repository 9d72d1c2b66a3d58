/** Says that the ?cluster= asked for does not exist, and which one is shown instead. */
export function UnknownClusterNotice({ requested, shown }: { requested: string | null; shown: string }) {
  if (requested === null) return null;
  return (
    <p role="alert" className="rounded-md bg-amber-100 px-3 py-2 text-sm text-amber-950">
      There is no cluster “{requested}”; showing {shown}.
    </p>
  );
}
