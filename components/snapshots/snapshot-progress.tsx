'use client';

import type { SnapshotProgressView } from '@/lib/snapshots/snapshot-types';
import { formatAge, formatBytes } from '@/lib/format/units';

const PHASE: Record<SnapshotProgressView['phase'], string> = {
  streaming: 'Receiving from etcd',
  verifying: 'Verifying (SHA-256 trailer, bbolt status)',
  copying: 'Copying off-site',
};

export function SnapshotProgress({ progress }: { progress: SnapshotProgressView }) {
  const pct =
    progress.expectedBytes && progress.expectedBytes > 0
      ? Math.min(100, Math.round((100 * progress.receivedBytes) / progress.expectedBytes))
      : null;
  return (
    <div data-testid="snapshot-progress" className="space-y-1">
      <div className="flex flex-wrap justify-between gap-2 text-sm">
        <span className="font-semibold">
          {progress.phase === 'streaming' && progress.receivedBytes === 0
            ? 'Waiting for etcd to start sending (it opens a read transaction first)'
            : PHASE[progress.phase]}
        </span>
        <span>
          {formatBytes(progress.receivedBytes)}
          {progress.expectedBytes !== null && ` of ${formatBytes(progress.expectedBytes)}`}
          {progress.bytesPerSecond !== null && ` · ${formatBytes(progress.bytesPerSecond)}/s`}
          {progress.secondsLeft !== null &&
            progress.phase === 'streaming' &&
            (progress.secondsLeft >= 1
              ? ` · ${formatAge(progress.secondsLeft * 1000)} left`
              : ' · last bytes; verifying next')}
        </span>
      </div>
      <div
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct ?? undefined}
        className="h-3 overflow-hidden rounded bg-slate-200 dark:bg-slate-800"
      >
        <div className="h-full bg-sky-600 transition-all" style={{ width: `${pct ?? 5}%` }} />
      </div>
    </div>
  );
}
