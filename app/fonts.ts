// The dashboard's own typefaces, served from the dashboard itself (never from the internet), so a page measures the
// same on a phone, a wall screen or a bare CI machine whatever fonts they have installed.
import localFont from 'next/font/local';

/** Inter (variable weight) for text. */
export const sans = localFont({
  src: '../node_modules/@fontsource-variable/inter/files/inter-latin-wght-normal.woff2',
  weight: '100 900',
  style: 'normal',
  display: 'swap',
  variable: '--font-dashboard-sans',
  fallback: ['ui-sans-serif', 'system-ui', 'sans-serif'],
});

/** JetBrains Mono (variable weight) for ids, sizes and latencies: every figure the same width. */
export const mono = localFont({
  src: '../node_modules/@fontsource-variable/jetbrains-mono/files/jetbrains-mono-latin-wght-normal.woff2',
  weight: '100 800',
  style: 'normal',
  display: 'swap',
  variable: '--font-dashboard-mono',
  fallback: ['ui-monospace', 'monospace'],
});
