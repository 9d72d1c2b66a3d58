// @ts-check
// eslint-disable-next-line @typescript-eslint/no-require-imports -- this file is CommonJS, as Next.js loads it
const { COMMON_HEADERS, NOTHING_ALLOWED_POLICY } = require('./server/security-headers.cjs');

/** @type {import('next').NextConfig} */
const nextConfig = {
  // A second build beside the main one (the fault drills use `.next-drills` so a rebuild never pulls files from under a
  // running dashboard).
  distDir: process.env.NEXT_DIST_DIR || '.next',
  // etcd3 loads its .proto files through __dirname, and @node-rs/crc32 (snapshot checksums) a prebuilt native .node
  // addon that Turbopack cannot place in a chunk: neither may be bundled.
  serverExternalPackages: ['etcd3', '@grpc/grpc-js', '@grpc/proto-loader', '@node-rs/crc32'],
  // A self-contained server folder for the container image, the systemd unit and the static pod:
  // `npm run build:standalone` assembles dist/standalone from it with server/, static files and public/
  // (scripts/build-standalone.ts).
  output: 'standalone',
  poweredByHeader: false,
  // `npm run typecheck` (tsc --noEmit over the whole tree, tests included) runs before every build in `npm test`;
  // the build does not type-check a second time.
  typescript: { ignoreBuildErrors: true },
  reactStrictMode: true,
  // On every response, static files included. Pages get their Content-Security-Policy (with a nonce) from proxy.ts;
  // API answers and static files get theirs here.
  async headers() {
    return [
      {
        source: '/:path*',
        headers: COMMON_HEADERS,
      },
      {
        // Pages get their policy (with a script nonce) from proxy.ts; static files get one that allows nothing.
        source: '/_next/static/:path*',
        headers: [{ key: 'Content-Security-Policy', value: NOTHING_ALLOWED_POLICY }],
      },
      {
        // API answers are JSON, never documents: a policy that allows nothing, set here rather than in proxy.ts so
        // the hot status route does not pay for the proxy on every request.
        source: '/api/:path*',
        headers: [{ key: 'Content-Security-Policy', value: NOTHING_ALLOWED_POLICY }],
      },
      {
        source: '/favicon.svg',
        headers: [
          {
            key: 'Content-Security-Policy',
            value: "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
          },
        ],
      },
    ];
  },
};

module.exports = nextConfig;
