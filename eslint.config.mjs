import { defineConfig, globalIgnores } from 'eslint/config';
import nextVitals from 'eslint-config-next/core-web-vitals';
import nextTypescript from 'eslint-config-next/typescript';

export default defineConfig([
  ...nextVitals,
  ...nextTypescript,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // One way in to etcd: only lib/etcd/ may speak gRPC.
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'etcd3', message: 'Everything that speaks gRPC lives behind lib/etcd/.' },
            { name: '@grpc/grpc-js', message: 'Everything that speaks gRPC lives behind lib/etcd/.' },
          ],
        },
      ],
    },
  },
  {
    files: ['lib/etcd/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  globalIgnores([
    '.scratch/**',
    '.next/**',
    '.next-*/**',
    'node_modules/**',
    '.cluster/**',
    'data/**',
    'dist/**',
    'test-results/**',
    'test-results-drills/**',
    'playwright-report/**',
    'next-env.d.ts',
  ]),
]);
