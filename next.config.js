// @ts-check
/** @type {import('next').NextConfig} */
const nextConfig = {
  // etcd3 loads its .proto files through __dirname: it must not be bundled.
  serverExternalPackages: ['etcd3', '@grpc/grpc-js', '@grpc/proto-loader'],
  poweredByHeader: false,
  reactStrictMode: true,
  // On every response, static files included; the Content-Security-Policy comes from proxy.ts.
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'Referrer-Policy', value: 'no-referrer' },
          { key: 'X-Frame-Options', value: 'DENY' },
          { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=()' },
          { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
        ],
      },
      {
        // Pages get their policy (with a script nonce) from proxy.ts; static files get one that allows nothing.
        source: '/_next/static/:path*',
        headers: [{ key: 'Content-Security-Policy', value: "default-src 'none'; frame-ancestors 'none'" }],
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
