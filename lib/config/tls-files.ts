// Reads and checks a cluster's CA, client certificate and key files; failures name the file, never its contents.
import 'server-only';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error';
import type { TlsCredentials } from '@/lib/etcd/tls-credentials';

export interface TlsFilePaths {
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
}

/** Labels for the three files in messages, e.g. "ETCDCTL_CERT" or "dashboard.yaml: clusters[0].tls.cert". */
export interface TlsFileLabels {
  ca: string;
  cert: string;
  key: string;
}

export interface ClientCertificateInfo {
  subject: string;
  validTo: string;
}

function readFile(label: string, file: string): Buffer {
  try {
    return readFileSync(/*turbopackIgnore: true*/ file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : (code ?? 'unreadable');
    throw new ConfigError(`${label}: cannot read ${file}: ${why}`);
  }
}

function parseCertificate(label: string, file: string, pem: Buffer): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new ConfigError(`${label}: ${file} is not a PEM or DER certificate`);
  }
}

function checkValidity(label: string, file: string, cert: X509Certificate, now: Date): void {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (to.getTime() < now.getTime())
    throw new ConfigError(`${label}: certificate ${file} expired on ${to.toISOString()}`);
  if (from.getTime() > now.getTime()) {
    throw new ConfigError(`${label}: certificate ${file} is not valid before ${from.toISOString()}`);
  }
}

export function loadTlsFiles(
  paths: TlsFilePaths,
  labels: TlsFileLabels,
  now = new Date(),
): { credentials: TlsCredentials; client: ClientCertificateInfo | null; caValidTo: string | null } {
  if (Boolean(paths.cert) !== Boolean(paths.key)) {
    const missing = paths.cert ? labels.key : labels.cert;
    throw new ConfigError(`${missing}: required when ${paths.cert ? labels.cert : labels.key} is set`);
  }
  let ca: Buffer | null = null;
  let caValidTo: string | null = null;
  if (paths.ca) {
    ca = readFile(labels.ca, paths.ca);
    caValidTo = new Date(parseCertificate(labels.ca, paths.ca, ca).validTo).toISOString();
  }
  if (!paths.cert || !paths.key) return { credentials: { ca, cert: null, key: null }, client: null, caValidTo };

  const certPem = readFile(labels.cert, paths.cert);
  const keyPem = readFile(labels.key, paths.key);
  const cert = parseCertificate(labels.cert, paths.cert, certPem);
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new ConfigError(`${labels.key}: ${paths.key} is not an unencrypted PEM private key`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new ConfigError(`${labels.key}: ${paths.key} does not match the certificate ${paths.cert} (${labels.cert})`);
  }
  checkValidity(labels.cert, paths.cert, cert, now);
  return {
    credentials: { ca, cert: certPem, key: keyPem },
    client: { subject: cert.subject.replace(/\n/g, ', '), validTo: new Date(cert.validTo).toISOString() },
    caValidTo,
  };
}
