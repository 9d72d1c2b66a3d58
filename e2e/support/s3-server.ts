// The S3-protocol server the tests copy snapshots to: s3rver on 127.0.0.1, in-process, its one bucket made.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import S3rver from 's3rver';

export const S3_BUCKET = 'etcd-backups';
const S3_KEY = 'S3RVER';

/** Starts it on `port`, storing under <root>/s3, and writes its secret to <root>/s3-secret for the config to name. */
export async function startS3(root: string, port: number): Promise<S3rver> {
  writeFileSync(path.join(root, 's3-secret'), `${S3_KEY}\n`);
  const s3 = new S3rver({
    address: '127.0.0.1',
    port,
    silent: true,
    directory: path.join(root, 's3'),
    configureBuckets: [{ name: S3_BUCKET, configs: [] }],
  });
  await s3.run();
  return s3;
}

/** A cluster's `snapshots.offsite` section for that server, under `prefix`. */
export function offsiteOf(root: string, port: number, prefix: string): Record<string, unknown> {
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket: S3_BUCKET,
    prefix,
    accessKeyId: S3_KEY,
    secretAccessKeyFile: path.join(root, 's3-secret'),
    forcePathStyle: true,
  };
}
