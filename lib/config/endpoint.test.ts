import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error';
import { parseEndpoint } from './endpoint';

const LABEL = 'ETCDCTL_ENDPOINTS[1]';

/** The ConfigError parseEndpoint throws, so its message can be checked. */
function failure(raw: string, tlsConfigured: boolean): ConfigError {
  try {
    parseEndpoint(raw, LABEL, tlsConfigured);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`parseEndpoint accepted ${JSON.stringify(raw)}`);
}

describe('parseEndpoint', () => {
  it('keeps https://host:port', () => {
    expect(parseEndpoint('https://10.0.0.11:2379', LABEL, true)).toBe('https://10.0.0.11:2379');
    expect(parseEndpoint('https://etcd-0.etcd.kube-system.svc:2379', LABEL, false)).toBe(
      'https://etcd-0.etcd.kube-system.svc:2379',
    );
  });

  it('keeps http://host:port when no client certificate is configured', () => {
    expect(parseEndpoint('http://127.0.0.1:2379', LABEL, false)).toBe('http://127.0.0.1:2379');
  });

  it('gives a bare host:port https when TLS is configured and http otherwise', () => {
    expect(parseEndpoint('127.0.0.1:2379', LABEL, true)).toBe('https://127.0.0.1:2379');
    expect(parseEndpoint('127.0.0.1:2379', LABEL, false)).toBe('http://127.0.0.1:2379');
    expect(parseEndpoint('localhost:2379', LABEL, true)).toBe('https://localhost:2379');
  });

  it('accepts surrounding spaces (as in "a:2379, b:2379") and a trailing slash', () => {
    expect(parseEndpoint('  https://10.0.0.12:2379/ ', LABEL, true)).toBe('https://10.0.0.12:2379');
  });

  it('accepts an IPv6 address', () => {
    expect(parseEndpoint('https://[::1]:2379', LABEL, true)).toBe('https://[::1]:2379');
  });

  it('rejects an empty endpoint, naming the label', () => {
    const err = failure('   ', true);
    expect(err.message).toContain(LABEL);
    expect(err.message).toMatch(/empty/);
  });

  it('rejects a missing port, naming the label and the value', () => {
    const err = failure('https://etcd-0.example.com', true);
    expect(err.message).toContain(LABEL);
    expect(err.message).toContain('"https://etcd-0.example.com"');
    expect(err.message).toMatch(/no port/);

    expect(failure('etcd-0.example.com', true).message).toContain('"etcd-0.example.com"');
  });

  it('keeps an explicit default port (URL parsing drops it, the endpoint must not)', () => {
    expect(parseEndpoint('https://etcd.example.com:443', LABEL, true)).toBe('https://etcd.example.com:443');
    expect(parseEndpoint('http://etcd.example.com:80', LABEL, false)).toBe('http://etcd.example.com:80');
    expect(parseEndpoint('etcd.example.com:443', LABEL, true)).toBe('https://etcd.example.com:443');
  });

  it('rejects a path, naming the label and the value', () => {
    const err = failure('https://10.0.0.11:2379/v3/kv', true);
    expect(err.message).toContain(LABEL);
    expect(err.message).toContain('"https://10.0.0.11:2379/v3/kv"');
  });

  it('rejects a query and a fragment', () => {
    const q = failure('https://10.0.0.11:2379?timeout=5s', true);
    expect(q.message).toContain(LABEL);
    expect(q.message).toContain('"https://10.0.0.11:2379?timeout=5s"');
    expect(failure('https://10.0.0.11:2379#x', true).message).toContain('"https://10.0.0.11:2379#x"');
  });

  it('rejects credentials in the URL', () => {
    expect(failure('https://root:secret@10.0.0.11:2379', true).message).toContain(LABEL);
  });

  // The security review: the configuration error line repeated them in full, into the log and the API's 503s.
  it.each([
    ['https://root:s3cret-Pa55@10.0.0.11:2379', 'https://root:***@10.0.0.11:2379'],
    ['root:s3cret-Pa55@10.0.0.11:2379', 'root:***@10.0.0.11:2379'],
    ['https://root:s3cret-Pa55@10.0.0.11', 'https://root:***@10.0.0.11'],
    ['grpc://root:s3cret-Pa55@10.0.0.11:2379', 'grpc://root:***@10.0.0.11:2379'],
    ['https://root:s3cret-Pa55@exa mple:2379', 'https://root:***@exa mple:2379'],
    ['https://root:s3cret@Pa55@10.0.0.11:2379/v3', 'https://root:***@10.0.0.11:2379/v3'],
    ['http://root:s3cret-Pa55@10.0.0.11:2379', 'http://root:***@10.0.0.11:2379'],
    ['https://root:s3cret/Pa55@10.0.0.11:2379', 'https://root:***@10.0.0.11:2379'],
  ])('names %s with its password masked', (raw, shown) => {
    const err = failure(raw, true);
    expect(err.message).toContain(`"${shown}"`);
    expect(err.message).not.toContain('s3cret');
    expect(err.message).not.toContain('Pa55');
  });

  it('names an endpoint with a user but no password as written', () => {
    expect(failure('https://root@10.0.0.11:2379', true).message).toContain('"https://root@10.0.0.11:2379"');
  });

  it('rejects a scheme other than http and https, naming it', () => {
    const err = failure('grpc://10.0.0.11:2379', true);
    expect(err.message).toContain(LABEL);
    expect(err.message).toContain('"grpc://10.0.0.11:2379"');
    expect(err.message).toMatch(/scheme grpc/);
  });

  it('rejects a value that is not a URL at all', () => {
    const err = failure('https://exa mple:2379', true);
    expect(err.message).toContain(LABEL);
    expect(err.message).toContain('"https://exa mple:2379"');
  });

  it('refuses plain http when a client certificate is configured (it would be sent nowhere)', () => {
    const err = failure('http://10.0.0.11:2379', true);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain(LABEL);
    expect(err.message).toContain('"http://10.0.0.11:2379"');
    expect(err.message).toMatch(/https/);
  });
});
