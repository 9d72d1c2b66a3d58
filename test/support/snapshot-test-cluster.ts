// For tests and the benchmark only: a 1-member mTLS cluster in a temp folder, filled and snapshotted with the real etcdctl.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalCluster } from '@/scripts/lib/local-cluster';

/** What `snapshot status -w json` prints (the hash in decimal); `version` (the storage version) from 3.6 on. */
export interface EtcdctlSnapshotStatus {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
  version?: string;
}

/** etcdctl's default --max-txn-ops. */
const TXN_OPS = 128;

export class SnapshotTestCluster {
  private constructor(
    private readonly cluster: LocalCluster,
    /** A temp folder for snapshot files; removed by stop(). */
    readonly dir: string,
  ) {}

  /** Starts the member on basePort…basePort+2 (client, peer, metrics). */
  static async start(basePort: number, name: string): Promise<SnapshotTestCluster> {
    const dir = mkdtempSync(path.join(os.tmpdir(), `${name}-`));
    const cluster = LocalCluster.create({ dir: path.join(dir, 'cluster'), members: 1, basePort, name });
    const self = new SnapshotTestCluster(cluster, dir);
    try {
      await cluster.start();
    } catch (err) {
      await self.stop();
      throw err;
    }
    return self;
  }

  /** The version the member runs, and its etcdctl and etcdutl. */
  get binaries() {
    return this.cluster.binaries;
  }

  /** Runs etcdctl against the cluster; resolves with stdout, rejects with stderr on a non-zero exit. */
  etcdctl(args: string[], input?: string): Promise<string> {
    return this.run(this.binaries.etcdctl, args, input);
  }

  /** Runs the version's offline tool: etcdutl from 3.5 on, etcdctl for 3.4 (whose etcdctl still has those commands). */
  etcdutl(args: string[]): Promise<string> {
    return this.run(this.binaries.etcdutl ?? this.binaries.etcdctl, args);
  }

  private run(bin: string, args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(bin, args, {
        env: { ...process.env, ...this.cluster.etcdctlEnv },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve(Buffer.concat(out).toString());
        else
          reject(
            new Error(
              `${path.basename(bin)} ${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString().trim()}`,
            ),
          );
      });
      // A command that does not read its input may exit before the write lands (EPIPE): its exit code says how it went.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input ?? '');
    });
  }

  /**
   * Puts and deletes in transactions of up to 128 operations (values must be free of spaces and quotes), applied in
   * order; `parallel` > 1 sends that many transactions at once, for bulk loads where order does not matter.
   */
  async write(ops: ReadonlyArray<{ put: string; value: string } | { del: string }>, parallel = 1): Promise<void> {
    const batches: string[] = [];
    for (let i = 0; i < ops.length; i += TXN_OPS) {
      const lines = ops
        .slice(i, i + TXN_OPS)
        .map((op) => ('put' in op ? `put ${op.put} ${op.value}` : `del ${op.del}`))
        .join('\n');
      // Interactive txn: an empty compare block, the success ops, an empty failure block.
      batches.push(`\n${lines}\n\n\n`);
    }
    let next = 0;
    const worker = async () => {
      while (next < batches.length) await this.etcdctl(['txn'], batches[next++]);
    };
    await Promise.all(Array.from({ length: Math.max(1, parallel) }, worker));
  }

  async revision(): Promise<number> {
    const out = JSON.parse(await this.etcdctl(['endpoint', 'status', '-w', 'json'])) as [
      { Status: { header: { revision: number } } },
    ];
    return out[0].Status.header.revision;
  }

  /** `etcdctl snapshot save`; returns the file's path inside `dir`. */
  async save(name: string): Promise<string> {
    const file = path.join(this.dir, name);
    await this.etcdctl(['snapshot', 'save', file]);
    return file;
  }

  /** The version's own `snapshot status -w json` (etcdutl from 3.5 on) on any file; no request to the cluster. */
  async status(file: string): Promise<EtcdctlSnapshotStatus> {
    return JSON.parse(await this.etcdutl(['snapshot', 'status', file, '-w', 'json'])) as EtcdctlSnapshotStatus;
  }

  async stop(): Promise<void> {
    try {
      await this.cluster.stop();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing test fails the same way again. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A value of `length` characters from [a-z0-9] (safe on an etcdctl txn line): a random slice of a seeded pool. */
export function valueOf(length: number, random: () => number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  pool ??= Array.from({ length: POOL }, (_, i) => alphabet[(Math.imul(i + 1, 0x9e3779b1) >>> 27) % 36]).join('');
  let out = '';
  while (out.length < length) {
    const from = Math.floor(random() * (POOL / 2));
    out += pool.slice(from, from + Math.min(length - out.length, POOL / 2));
  }
  return out;
}

const POOL = 1 << 16;
let pool: string | null = null;
