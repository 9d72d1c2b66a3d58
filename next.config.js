// @ts-check
/** @type {import('next').NextConfig} */
const nextConfig = {
  // etcd3 loads its .proto files through __dirname: it must not be bundled.
  serverExternalPackages: ['etcd3', '@grpc/grpc-js', '@grpc/proto-loader'],
  poweredByHeader: false,
  reactStrictMode: true,
};

module.exports = nextConfig;
