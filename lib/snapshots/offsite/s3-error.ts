// Turns whatever an S3 call threw into one line an operator can act on, never carrying the secret key.
import 'server-only';
import { S3ServiceException } from '@aws-sdk/client-s3';

// What the socket error codes mean for an object store.
const SOCKET_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused: nothing listens at the endpoint',
  ECONNRESET: 'connection reset by the object store',
  EPIPE: 'connection closed by the object store',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
};

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)/;

export interface S3ErrorContext {
  bucket: string;
  /** Scrubbed from the reason, whatever the server or the SDK echoed. */
  secretAccessKey: string;
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim();
}

function codeOf(err: Error): string | undefined {
  const code: unknown = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

// Node's happy-eyeballs connect throws an AggregateError with an empty message; the first attempt says what failed.
function messageOf(err: Error): string {
  if (err.message) return firstLine(err.message);
  if (err instanceof AggregateError) {
    const inner: unknown = err.errors[0];
    if (inner instanceof Error) return firstLine(inner.message);
  }
  return err.name;
}

function describeServiceError(err: S3ServiceException, bucket: string): string {
  const status = err.$metadata.httpStatusCode;
  const code = status ? `${err.name}, HTTP ${status}` : err.name;
  switch (err.name) {
    case 'NoSuchBucket':
      return `bucket "${bucket}" does not exist (${code})`;
    case 'InvalidAccessKeyId':
      return `the object store does not know this access key id (${code})`;
    case 'SignatureDoesNotMatch':
      return `the secret access key is wrong: the request signature does not match (${code})`;
    case 'AccessDenied':
      return `access denied: these credentials may not do this in bucket "${bucket}" (${code})`;
    case 'RequestTimeTooSkewed':
      return `this host's clock is too far from the object store's (${code})`;
    case 'NoSuchKey':
      return `no such object (${code})`;
  }
  // Bodyless answers (HEAD, some proxies) leave the SDK with only a status code.
  const message = firstLine(err.message);
  if (!message || message === err.name || message === 'UnknownError') return code;
  return `${message} (${code})`;
}

export function describeS3Error(err: unknown, context: S3ErrorContext): string {
  let reason: string;
  if (!(err instanceof Error)) {
    reason = firstLine(String(err));
  } else if (err.name === 'AbortError') {
    reason = 'aborted';
  } else if (err instanceof S3ServiceException) {
    reason = describeServiceError(err, context.bucket);
  } else if (err.name === 'TimeoutError') {
    const detail = messageOf(err)
      .replace(/^@smithy\/node-http-handler - /, '')
      .replace(/ \((?:configured by client requestHandler|service default socket timeout)\)/, '')
      .replace(/\.$/, '');
    reason = `timed out: ${detail}`;
  } else {
    const code = codeOf(err);
    const message = messageOf(err);
    if (code && SOCKET_ERRORS[code]) reason = `${SOCKET_ERRORS[code]} (${message})`;
    else if (code && TLS_CODES.test(code)) reason = `TLS handshake failed: ${message}`;
    else reason = message || err.name;
  }
  const secret = context.secretAccessKey;
  if (secret) reason = reason.split(secret).join('[secret]');
  return reason.slice(0, 300);
}
