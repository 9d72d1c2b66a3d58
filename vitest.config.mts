import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@': path.resolve(root),
      'server-only': path.resolve(root, 'test/server-only-stub.ts'),
    },
  },
  test: {
    include: ['lib/**/*.test.ts', 'scripts/**/*.test.ts', 'server/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    // Most files wait on real etcd (fsync, elections, timers), not on the CPU: four at a time on 2 cores runs the suite
    // in well under half the time of the default there (one worker). Every file has ports of its own.
    maxWorkers: Math.max(4, os.availableParallelism()),
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
