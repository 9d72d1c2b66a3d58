// Throwaway PKI for local etcd clusters and tests, made with the openssl command line.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import path from 'node:path';

export interface CertPaths {
  cert: string;
  key: string;
}

export interface CertOptions {
  commonName: string;
  /** serverAuth and/or clientAuth */
  usages: Array<'serverAuth' | 'clientAuth'>;
  /** Subject alternative names, e.g. ['IP:127.0.0.1', 'DNS:localhost'] */
  altNames?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

function openssl(args: string[], cwd?: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

// openssl ca wants YYYYMMDDHHMMSSZ
function asn1Time(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

function newKey(keyPath: string): void {
  // genpkey writes PKCS#8, which every TLS stack reads.
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath]);
  chmodSync(keyPath, 0o600);
}

/** A certificate authority: a self-signed CA certificate and key under `dir`. */
export class CertificateAuthority {
  readonly cert: string;
  readonly key: string;
  private readonly dbDir: string;

  constructor(readonly dir: string) {
    this.cert = path.join(dir, 'ca.crt');
    this.key = path.join(dir, 'ca.key');
    this.dbDir = path.join(dir, '.ca-db');
  }

  static create(dir: string, commonName = 'etcd-dashboard local CA'): CertificateAuthority {
    mkdirSync(dir, { recursive: true });
    const ca = new CertificateAuthority(dir);
    newKey(ca.key);
    const ext = path.join(dir, 'ca-ext.cnf');
    writeFileSync(
      ext,
      [
        '[req]',
        'distinguished_name = dn',
        'x509_extensions = v3_ca',
        'prompt = no',
        '[dn]',
        `CN = ${commonName}`,
        '[v3_ca]',
        'basicConstraints = critical, CA:TRUE',
        'keyUsage = critical, keyCertSign, cRLSign',
        'subjectKeyIdentifier = hash',
        '',
      ].join('\n'),
    );
    openssl(['req', '-x509', '-new', '-key', ca.key, '-days', '3650', '-sha256', '-config', ext, '-out', ca.cert]);
    return ca;
  }

  /** Issues a leaf certificate; `name` is the file stem under the CA's dir unless `outDir` is given. */
  issue(name: string, opts: CertOptions, outDir = this.dir): CertPaths {
    mkdirSync(outDir, { recursive: true });
    this.ensureDb();
    const key = path.join(outDir, `${name}.key`);
    const cert = path.join(outDir, `${name}.crt`);
    const csr = path.join(this.dbDir, `${name}.csr`);
    const cnf = path.join(this.dbDir, `${name}.cnf`);
    newKey(key);
    const alt = opts.altNames && opts.altNames.length > 0 ? [`subjectAltName = ${opts.altNames.join(', ')}`] : [];
    writeFileSync(
      cnf,
      [
        '[ca]',
        'default_ca = local',
        '[local]',
        `database = ${path.join(this.dbDir, 'index.txt')}`,
        `new_certs_dir = ${this.dbDir}`,
        `serial = ${path.join(this.dbDir, 'serial')}`,
        'default_md = sha256',
        'policy = anything',
        'unique_subject = no',
        'copy_extensions = none',
        '[anything]',
        'commonName = supplied',
        '[req]',
        'distinguished_name = dn',
        'prompt = no',
        '[dn]',
        `CN = ${opts.commonName}`,
        '[leaf]',
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature, keyEncipherment',
        `extendedKeyUsage = ${opts.usages.join(', ')}`,
        ...alt,
        '',
      ].join('\n'),
    );
    openssl(['req', '-new', '-key', key, '-config', cnf, '-out', csr]);
    const notBefore = opts.notBefore ?? new Date(Date.now() - 60_000);
    const notAfter = opts.notAfter ?? new Date(Date.now() + 365 * 24 * 3600_000);
    openssl([
      'ca',
      '-batch',
      '-notext',
      '-config',
      cnf,
      '-cert',
      this.cert,
      '-keyfile',
      this.key,
      '-in',
      csr,
      '-out',
      cert,
      '-startdate',
      asn1Time(notBefore),
      '-enddate',
      asn1Time(notAfter),
      '-extfile',
      cnf,
      '-extensions',
      'leaf',
    ]);
    return { cert, key };
  }

  private ensureDb(): void {
    mkdirSync(this.dbDir, { recursive: true });
    const index = path.join(this.dbDir, 'index.txt');
    if (!existsSync(index)) writeFileSync(index, '');
    const serial = path.join(this.dbDir, 'serial');
    if (!existsSync(serial)) writeFileSync(serial, `${Date.now().toString(16).toUpperCase().padStart(16, '0')}\n`);
  }
}

export const LOOPBACK_SANS = ['IP:127.0.0.1', 'DNS:localhost'];
