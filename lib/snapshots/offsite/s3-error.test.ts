import { NoSuchBucket, S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { describeS3Error } from './s3-error';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const context = { bucket: 'etcd-offsite', secretAccessKey: SECRET };

function serviceError(name: string, status: number, message: string): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message });
}

describe('describeS3Error', () => {
  it('names the missing bucket', () => {
    const err = new NoSuchBucket({
      $metadata: { httpStatusCode: 404 },
      message: 'The specified bucket does not exist',
    });
    expect(describeS3Error(err, context)).toBe('bucket "etcd-offsite" does not exist (NoSuchBucket, HTTP 404)');
  });

  it('tells a wrong secret from an unknown access key id', () => {
    expect(describeS3Error(serviceError('SignatureDoesNotMatch', 403, 'The request signature…'), context)).toMatch(
      /^the secret access key is wrong/,
    );
    expect(describeS3Error(serviceError('InvalidAccessKeyId', 403, 'The AWS Access Key Id…'), context)).toMatch(
      /^the object store does not know this access key id/,
    );
  });

  it('keeps the status code when a bodyless answer leaves the SDK only a name', () => {
    expect(describeS3Error(serviceError('UnknownError', 502, 'UnknownError'), context)).toBe('UnknownError, HTTP 502');
  });

  it('reads a refused connection out of the empty AggregateError of a dual-stack connect', () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED ::1:9000'), { code: 'ECONNREFUSED' });
    const err = Object.assign(new AggregateError([inner], ''), { code: 'ECONNREFUSED' });
    expect(describeS3Error(err, context)).toBe(
      'connection refused: nothing listens at the endpoint (connect ECONNREFUSED ::1:9000)',
    );
  });

  it('words the SDK socket timeout without its package prefix', () => {
    const err = Object.assign(
      new Error(
        '@smithy/node-http-handler - the request socket timed out after 500 ms of inactivity (configured by client requestHandler).',
      ),
      { name: 'TimeoutError' },
    );
    expect(describeS3Error(err, context)).toBe('timed out: the request socket timed out after 500 ms of inactivity');
  });

  it('reports certificate problems as TLS failures', () => {
    const err = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(describeS3Error(err, context)).toBe('TLS handshake failed: self-signed certificate');
  });

  it('never repeats the secret key, wherever it was echoed, and keeps to one line', () => {
    const err = new Error(
      `could not sign with ${SECRET} for https://x:${SECRET}@minio.local\n    at sign (sigv4.js:1)`,
    );
    const reason = describeS3Error(err, context);
    expect(reason).not.toContain(SECRET);
    expect(reason).toBe('could not sign with [secret] for https://x:[secret]@minio.local');
  });

  it('calls an abort an abort', () => {
    expect(describeS3Error(Object.assign(new Error('x'), { name: 'AbortError' }), context)).toBe('aborted');
  });
});
