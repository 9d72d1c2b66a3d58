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
    ];
  },
};

module.exports = nextConfig;
