// nginx (Debian bookworm's, from scripts/lib/monitoring-tools.ts) in front of dashboard replicas, as an SRE would put
// it: round robin, no stickiness, the next replica tried when one refuses or fails. Bound to 127.0.0.1, stopped by PID.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startDaemon, type Daemon } from './monitoring-stack';

/** The nginx configuration the HA tests run (docs/high-availability.md shows the same `upstream` and `location`). */
export function nginxConfig(opts: { root: string; port: number; replicas: number[] }): string {
  const temp = (name: string) => `${name}_temp_path ${path.join(opts.root, 'temp', name)};`;
  return `daemon off;
master_process on;
worker_processes 1;
pid ${path.join(opts.root, 'nginx.pid')};
error_log ${path.join(opts.root, 'nginx-error.log')} warn;
${process.getuid?.() === 0 ? 'user nobody nogroup;' : ''}
events { worker_connections 512; }
http {
  access_log ${path.join(opts.root, 'nginx-access.log')};
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
  upstream dashboard {
    ${opts.replicas.map((p) => `server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join('\n    ')}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${opts.port};
    location = /nginx-health { return 200 "ok\\n"; }
    location / {
      proxy_pass http://dashboard;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      # A replica that died (connection refused, reset) or answers 502/503 is skipped for the next one.
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 1s;
      proxy_read_timeout 60s;
    }
  }
}
`;
}

export async function startNginx(
  nginx: string,
  opts: { root: string; port: number; replicas: number[] },
): Promise<Daemon> {
  mkdirSync(path.join(opts.root, 'temp'), { recursive: true });
  const conf = path.join(opts.root, 'nginx.conf');
  writeFileSync(conf, nginxConfig(opts));
  return startDaemon(
    'nginx',
    nginx,
    ['-p', opts.root, '-e', path.join(opts.root, 'nginx-error.log'), '-c', conf],
    opts.root,
    `http://127.0.0.1:${opts.port}`,
    30_000,
    '/nginx-health',
  );
}
