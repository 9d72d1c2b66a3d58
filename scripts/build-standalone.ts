// Assembles dist/standalone from a finished `next build`: one folder that runs with `node server/server.mjs` and
// nothing else beside it (the container image, the systemd unit and the static pod all run this folder).
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const distDir = process.env.NEXT_DIST_DIR || '.next';
const built = path.join(root, distDir, 'standalone');
const out = path.resolve(root, process.argv[2] ?? path.join('dist', 'standalone'));

/** What the folder keeps at its top: Next's server build, the runtime modules, our server, static files. */
const KEEP = new Set([distDir, 'node_modules', 'package.json', 'public', 'server']);
/** Our server in front of Next.js (server/server.mjs imports the other two). */
const SERVER_FILES = ['server.mjs', 'http-helpers.mjs', 'security-headers.cjs'];
/**
 * sharp serves only next/image, which the dashboard does not use: 19 MB of native code out of the image.
 * Next.js loads it lazily, on the first /_next/image request.
 */
const UNUSED_MODULES = ['sharp', '@img'];
/** Files modules read by a computed path, which the tracer cannot see: etcd3 loads `${__dirname}/../proto/rpc.proto`. */
const UNTRACED_FILES = ['node_modules/etcd3/proto'];

function fail(message: string): never {
  console.error(`build-standalone: ${message}`);
  process.exit(1);
}

function sizeOf(target: string): number {
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(target).reduce((sum, name) => sum + sizeOf(path.join(target, name)), 0);
}

if (!existsSync(path.join(built, 'server.js'))) {
  fail(
    `${path.relative(root, built)}/server.js is missing: run \`npm run build\` first (next.config.js sets output: 'standalone')`,
  );
}
rmSync(out, { recursive: true, force: true });
cpSync(built, out, { recursive: true, verbatimSymlinks: true });

// The file tracer follows paths the server computes at run time (DATA_DIR, the etcd binaries' cache) and takes
// sources and tests along; the server runs from the compiled chunks in .next/server, so only KEEP stays.
// Next's own server.js goes too: server/server.mjs is the entry, with the status fast path and the peer header.
for (const name of readdirSync(out)) {
  if (!KEEP.has(name)) rmSync(path.join(out, name), { recursive: true, force: true });
}
for (const name of UNUSED_MODULES) rmSync(path.join(out, 'node_modules', name), { recursive: true, force: true });

for (const file of UNTRACED_FILES) cpSync(path.join(root, file), path.join(out, file), { recursive: true });
cpSync(path.join(root, distDir, 'static'), path.join(out, distDir, 'static'), { recursive: true });
cpSync(path.join(root, 'public'), path.join(out, 'public'), { recursive: true });
for (const file of SERVER_FILES) cpSync(path.join(root, 'server', file), path.join(out, 'server', file));

if (!existsSync(path.join(out, distDir, 'required-server-files.json'))) {
  fail(
    `${distDir}/required-server-files.json is missing from the build: server/server.mjs reads its configuration there`,
  );
}
const megabytes = (sizeOf(out) / 1024 / 1024).toFixed(1);
console.log(`build-standalone: ${path.relative(root, out)} (${megabytes} MB): node server/server.mjs`);
