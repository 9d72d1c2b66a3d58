// A real etcd cluster on loopback with mutual TLS, in a folder it owns; members are started and stopped by PID.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ensureEtcd, selectedEtcdLine, type EtcdBinaries, type EtcdLine } from './etcd-versions';
import { CertificateAuthority, LOOPBACK_SANS } from './pki';

export interface LocalMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  /** Plain-HTTP /metrics and /health, as kubeadm exposes on 2381. */
  metricsUrl: string;
  dataDir: string;
  logFile: string;
  serverCert: string;
  serverKey: string;
  peerCert: string;
  peerKey: string;
  pid: number | null;
}

export interface LocalClusterState {
  name: string;
  dir: string;
  token: string;
  caCert: string;
  /** The dashboard's client certificate, named as kubeadm names its probe certificate. */
  clientCert: string;
  clientKey: string;
  quotaBackendBytes: number | null;
  /** Extra environment for every member's etcd process (e.g. ETCD_* settings); absent in older state files. */
  env?: Record<string, string>;
  /** The etcd line its members run and where that version's binaries are; absent in older state files (3.4). */
  etcd?: EtcdBinaries & { line: EtcdLine };
  members: LocalMember[];
}

export interface CreateOptions {
  dir: string;
  members?: number;
  basePort?: number;
  name?: string;
  quotaBackendBytes?: number;
  /** Extra environment for every member's etcd process, on top of this process's own. */
  env?: Record<string, string>;
  /** The etcd line to run: ETCD_DASHBOARD_ETCD_VERSION when not given, else the newest this machine has or can get. */
  etcd?: EtcdLine;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * This process's environment without ETCD_* variables: etcd reads every ETCD_<FLAG> as a flag (ETCD_VERSION is its
 * --version), so the dashboard's and the tests' own settings must not reach the members.
 */
function memberEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('ETCD_')) delete env[key];
  env.ETCD_UNSUPPORTED_ARCH = process.env.ETCD_UNSUPPORTED_ARCH ?? '';
  return env;
}

/** Is `pid` alive and still the etcd process serving `dataDir`? Guards against a recycled PID. */
export function isOurProcess(pid: number, dataDir: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 is the state; a zombie has exited already.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes(dataDir);
  } catch {
    return false;
  }
}

async function waitForExit(pid: number, dataDir: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isOurProcess(pid, dataDir)) return true;
    await sleep(50);
  }
  return !isOurProcess(pid, dataDir);
}

function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

export class LocalCluster {
  private constructor(public state: LocalClusterState) {}

  static statePath(dir: string): string {
    return path.join(dir, 'cluster.json');
  }

  /** Makes the PKI and the member layout; starts nothing. Refuses a folder that already holds a cluster. */
  static create(opts: CreateOptions): LocalCluster {
    const count = opts.members ?? 3;
    if (!Number.isInteger(count) || count < 1 || count > 7) {
      throw new Error(`members must be between 1 and 7, got ${count}`);
    }
    const basePort = opts.basePort ?? 23790;
    const dir = path.resolve(opts.dir);
    if (existsSync(LocalCluster.statePath(dir))) {
      throw new Error(`${dir} already holds a cluster; run "down --purge" first`);
    }
    const line = opts.etcd ?? selectedEtcdLine();
    const binaries = ensureEtcd(line);
    mkdirSync(dir, { recursive: true });
    const name = opts.name ?? path.basename(dir);
    const pkiDir = path.join(dir, 'pki');
    const ca = CertificateAuthority.create(pkiDir, `${name} etcd CA`);
    const client = ca.issue('healthcheck-client', { commonName: 'etcd-dashboard', usages: ['clientAuth'] });
    const members: LocalMember[] = [];
    for (let i = 0; i < count; i++) {
      const memberName = `${name}-m${i}`;
      const server = ca.issue(`${memberName}-server`, {
        commonName: memberName,
        usages: ['serverAuth', 'clientAuth'],
        altNames: LOOPBACK_SANS,
      });
      const peer = ca.issue(`${memberName}-peer`, {
        commonName: memberName,
        usages: ['serverAuth', 'clientAuth'],
        altNames: LOOPBACK_SANS,
      });
      const port = basePort + i * 3;
      members.push({
        name: memberName,
        clientUrl: `https://127.0.0.1:${port}`,
        peerUrl: `https://127.0.0.1:${port + 1}`,
        metricsUrl: `http://127.0.0.1:${port + 2}`,
        dataDir: path.join(dir, 'members', `${memberName}.etcd`),
        logFile: path.join(dir, 'members', `${memberName}.log`),
        serverCert: server.cert,
        serverKey: server.key,
        peerCert: peer.cert,
        peerKey: peer.key,
        pid: null,
      });
    }
    mkdirSync(path.join(dir, 'members'), { recursive: true });
    const cluster = new LocalCluster({
      name,
      dir,
      token: `${name}-${Date.now().toString(36)}`,
      caCert: ca.cert,
      clientCert: client.cert,
      clientKey: client.key,
      quotaBackendBytes: opts.quotaBackendBytes ?? null,
      ...(opts.env ? { env: { ...opts.env } } : {}),
      etcd: { line, ...binaries },
      members,
    });
    cluster.save();
    return cluster;
  }

  static load(dir: string): LocalCluster {
    const file = LocalCluster.statePath(path.resolve(dir));
    if (!existsSync(file)) throw new Error(`no cluster in ${path.resolve(dir)} (missing ${file})`);
    return new LocalCluster(JSON.parse(readFileSync(file, 'utf8')) as LocalClusterState);
  }

  get endpoints(): string[] {
    return this.state.members.map((m) => m.clientUrl);
  }

  /** The members' etcd binaries (clusters recorded before versions were kept ran Debian's 3.4). */
  get binaries(): EtcdBinaries & { line: EtcdLine } {
    return this.state.etcd ?? { line: '3.4', ...ensureEtcd('3.4') };
  }

  /** The environment etcdctl and the dashboard read. */
  get etcdctlEnv(): Record<string, string> {
    return {
      ETCDCTL_API: '3',
      ETCDCTL_ENDPOINTS: this.endpoints.join(','),
      ETCDCTL_CACERT: this.state.caCert,
      ETCDCTL_CERT: this.state.clientCert,
      ETCDCTL_KEY: this.state.clientKey,
    };
  }

  member(index: number): LocalMember {
    const m = this.state.members[index];
    if (!m) throw new Error(`no member ${index}; this cluster has ${this.state.members.length}`);
    return m;
  }

  indexOfName(name: string): number {
    const i = this.state.members.findIndex((m) => m.name === name);
    if (i < 0) throw new Error(`no member named ${name}`);
    return i;
  }

  isRunning(index: number): boolean {
    const m = this.member(index);
    return m.pid !== null && isOurProcess(m.pid, m.dataDir);
  }

  private save(): void {
    writeFileSync(LocalCluster.statePath(this.state.dir), JSON.stringify(this.state, null, 2));
  }

  private memberArgs(m: LocalMember): string[] {
    const initialCluster = this.state.members.map((x) => `${x.name}=${x.peerUrl}`).join(',');
    const args = [
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl,
      '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl,
      '--initial-advertise-peer-urls', m.peerUrl,
      '--listen-metrics-urls', m.metricsUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-token', this.state.token,
      '--initial-cluster-state', 'new',
      '--client-cert-auth',
      '--trusted-ca-file', this.state.caCert,
      '--cert-file', m.serverCert,
      '--key-file', m.serverKey,
      '--peer-client-cert-auth',
      '--peer-trusted-ca-file', this.state.caCert,
      '--peer-cert-file', m.peerCert,
      '--peer-key-file', m.peerKey,
      '--logger', 'zap',
      '--log-outputs', 'stderr',
    ]; // prettier-ignore
    if (this.state.quotaBackendBytes !== null) {
      args.push('--quota-backend-bytes', String(this.state.quotaBackendBytes));
    }
    return args;
  }

  /** Starts one member in the background (it outlives this process); returns its PID. */
  startMember(index: number): number {
    const m = this.member(index);
    if (m.pid !== null && isOurProcess(m.pid, m.dataDir)) return m.pid;
    const log = openSync(m.logFile, 'a');
    try {
      const bin = this.binaries.etcd;
      const child = spawn(bin, this.memberArgs(m), {
        detached: true,
        stdio: ['ignore', log, log],
        env: { ...memberEnv(), ...this.state.env },
      });
      if (child.pid === undefined) throw new Error(`could not start ${bin} for ${m.name}`);
      child.unref();
      m.pid = child.pid;
    } finally {
      closeSync(log);
    }
    this.save();
    return m.pid;
  }

  /** Sends `signal` to one member by its PID; with SIGTERM or SIGKILL waits until it has exited. */
  async stopMember(index: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const m = this.member(index);
    if (m.pid === null || !isOurProcess(m.pid, m.dataDir)) {
      m.pid = null;
      this.save();
      return;
    }
    const pid = m.pid;
    process.kill(pid, signal);
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') return;
    if (!(await waitForExit(pid, m.dataDir, 10_000))) {
      process.kill(pid, 'SIGKILL');
      await waitForExit(pid, m.dataDir, 5_000);
    }
    m.pid = null;
    this.save();
  }

  /** Freezes a member (SIGSTOP): it keeps its sockets open but answers nothing. */
  freezeMember(index: number): Promise<void> {
    return this.stopMember(index, 'SIGSTOP');
  }

  thawMember(index: number): Promise<void> {
    return this.stopMember(index, 'SIGCONT');
  }

  /** Starts every member that is not running and waits until each answers /health. */
  async start(timeoutMs = 30_000): Promise<void> {
    for (let i = 0; i < this.state.members.length; i++) this.startMember(i);
    await this.waitHealthy(timeoutMs);
  }

  /** Waits until every running member (or the given ones) reports {"health":"true"}. */
  async waitHealthy(timeoutMs = 30_000, indexes?: number[]): Promise<void> {
    const which = indexes ?? this.state.members.map((_, i) => i);
    const deadline = Date.now() + timeoutMs;
    const pending = new Set(which);
    let lastError = '';
    while (pending.size > 0) {
      for (const i of [...pending]) {
        const m = this.member(i);
        if (!this.isRunning(i)) {
          throw new Error(`${m.name} is not running; see ${m.logFile}`);
        }
        try {
          const res = await httpGet(`${m.metricsUrl}/health`, 1000);
          if (res.status === 200 && res.body.includes('"health":"true"')) pending.delete(i);
          else lastError = `${m.name}: ${res.status} ${res.body.trim()}`;
        } catch (err) {
          lastError = `${m.name}: ${(err as Error).message}`;
        }
      }
      if (pending.size === 0) break;
      if (Date.now() > deadline)
        throw new Error(`cluster ${this.state.name} not healthy in ${timeoutMs} ms (${lastError})`);
      await sleep(100);
    }
  }

  /** Stops every member by PID, in parallel. */
  async stop(): Promise<void> {
    await Promise.all(this.state.members.map((_, i) => this.stopMember(i)));
  }

  /** Stops the members and removes the folder. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.state.dir, { recursive: true, force: true });
  }
}
