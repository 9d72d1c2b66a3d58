// How long a snapshot or a restore test took, as the snapshot page prints it.

/** "850 ms", "4.2 s" */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
