import { EtcdPermissionDeniedError, GRPCDeadlineExceededError, GRPCUnavailableError } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { describeEtcdError } from './etcd-error';

// Messages as grpc-js 1.14 words them (load-balancer-pick-first.js), prefixed with the status code as etcd3 passes them.
const unavailable = (lastError: string) =>
  new GRPCUnavailableError(`14 UNAVAILABLE: No connection established. Last error: ${lastError}. Resolution note: `);

describe('describeEtcdError', () => {
  it('reports a refused connection as unreachable, with the address and no gRPC boilerplate', () => {
    const f = describeEtcdError(unavailable('Error: connect ECONNREFUSED 127.0.0.1:23799'));
    expect(f.kind).toBe('unreachable');
    expect(f.message).toContain('ECONNREFUSED 127.0.0.1:23799');
    expect(f.message).not.toMatch(/UNAVAILABLE|No connection established|Resolution note|Error:/);
  });

  it('reports an untrusted server certificate as a TLS failure, not as a dead member', () => {
    const f = describeEtcdError(unavailable('Error: unable to verify the first certificate'));
    expect(f.kind).toBe('tls');
    expect(f.message).toBe('TLS handshake failed: unable to verify the first certificate');
  });

  it('reports a self-signed certificate and a rejected client certificate as TLS failures', () => {
    const selfSigned = describeEtcdError(unavailable('Error: self-signed certificate in certificate chain'));
    expect(selfSigned.kind).toBe('tls');
    expect(selfSigned.message).toMatch(/^TLS handshake failed: self-signed certificate/);

    const badCert = describeEtcdError(
      unavailable(
        'Error: 80FB1E0B5B7F0000:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:' +
          '../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1605:SSL alert number 42',
      ),
    );
    expect(badCert.kind).toBe('tls');
    expect(badCert.message).toMatch(/^TLS handshake failed: /);
    expect(badCert.message).toContain('alert bad certificate');
  });

  it('keeps an unavailable message that has no "Last error" readable', () => {
    const f = describeEtcdError(new GRPCUnavailableError('14 UNAVAILABLE: Connection dropped'));
    expect(f.kind).toBe('unreachable');
    expect(f.message).toContain('Connection dropped');
    expect(f.message).not.toContain('14 UNAVAILABLE');
  });

  it('reports a missed deadline as a timeout', () => {
    const f = describeEtcdError(new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded after 0.801s'));
    expect(f.kind).toBe('timeout');
    expect(f.message).toMatch(/deadline/);
  });

  it('reports permission denied as such (etcdctl counts it as a healthy answer)', () => {
    expect(describeEtcdError(new EtcdPermissionDeniedError('etcdserver: permission denied'))).toEqual({
      kind: 'permission-denied',
      message: 'permission denied',
    });
  });

  it('keeps one line of an unknown error, without its stack or gRPC code', () => {
    const f = describeEtcdError(new Error('13 INTERNAL: something broke\n    at Object.<anonymous> (x.js:1:1)'));
    expect(f).toEqual({ kind: 'error', message: 'something broke' });
  });

  it('describes a thrown non-Error', () => {
    expect(describeEtcdError('boom')).toEqual({ kind: 'error', message: 'boom' });
  });
});
