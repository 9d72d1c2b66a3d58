// Malformed API requests from a seeded PRNG: every one is wrong in at least one way the dashboard must refuse
// with a 4xx (unknown or hostile ids, a method the route does not have, bad query values, bad bodies, bad
// credentials, oversized headers, broken HTTP), so any other answer is a finding.
import type { RawRequest } from './raw-http';

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  float(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
}

export interface FuzzTokens {
  operator: string;
  admin: string;
}

export interface FuzzCase {
  /** Which family of malformation, for the report. */
  kind: string;
  request: RawRequest;
}

/** Ids that climb out of folders, smuggle separators or bytes, or are far too long; none is a real id. */
const EVIL_IDS = [
  '..',
  '%2e%2e',
  '.%2e',
  '%2e%2e%2f%2e%2e%2f%2e%2e%2fcanary%2fdashboard.sqlite',
  '..%2f..%2f..%2fcanary%2fx.db',
  '..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd',
  '..%5c..%5c..%5ccanary%5cx.db',
  '..%2f..%2f..%2f..%2fcluster%2fpki%2fca.key',
  '%252e%252e%252f%252e%252e%252fcanary',
  '....%2f%2f....%2f%2fcanary',
  '..;',
  '%00',
  'x%00.db',
  'snapshots',
  '20260101T000000Z-abcdeg',
  '20260101T000000Z-abcdef.db',
  '..%2f20260101T000000Z-abcdef',
  'canary',
  "'%20OR%201%3D1--",
  '%3Cscript%3Ealert(1)%3C%2Fscript%3E',
  '%E2%80%AE%E2%80%8B',
  '__proto__',
  'constructor',
  '0123456789abcdef0',
  'ZZZZ',
];

/**
 * Path segments whose percent-escapes do not decode (a lone %, not hex, overlong or cut-off UTF-8). Kept out of the
 * other families: Next.js answers them with a 500 before any route handler runs (see api-fuzz.drill.ts).
 */
const MALFORMED_ESCAPES = ['%', '%zz', '%e0%a4%a', '%ff%fe', '%c0%ae%c0%ae%c0%af', 'a%2', '%%32%65'];

/** Raw multi-segment climbs; each lands on a path that is not a route or a page, so normalising them still ends in 404. */
const CLIMBS = [
  '../../../../../../etc/passwd',
  '../../../canary/x.db',
  '../../../../canary/dashboard.sqlite',
  '..%2f../..%2f../canary/passwd',
  './../../../canary/x',
];

const JUNK_PIECES = [
  '%',
  '%zz',
  '%00',
  '%ff',
  '%0d%0aSet-Cookie:%20x=1',
  '..%2f..%2f',
  '%2e%2e',
  '%22%7D%5D',
  '%3Cimg%20src%3Dx%3E',
  "'",
  '%27%3B--',
  '%24%7Bjndi%3Aldap%3A%2F%2Fx%7D',
  '%E2%80%AE',
  '%F0%9F%92%A5',
  '-9999999999999999999',
  '1e309',
  'NaN',
  'null',
  '[]',
  '%7B%7D',
  '~',
  '+',
  '%20%20',
];

function alnum(rng: Rng, n: number): string {
  const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let s = '';
  for (let i = 0; i < n; i++) s += chars[rng.int(chars.length)];
  return s;
}

/** A query value that no parameter accepts: it always holds "~" next to junk. */
function junkValue(rng: Rng): string {
  let v = '~';
  const pieces = 1 + rng.int(4);
  for (let i = 0; i < pieces; i++) v += rng.chance(0.3) ? alnum(rng, 1 + rng.int(8)) : rng.pick(JUNK_PIECES);
  if (rng.chance(0.05)) v += 'a'.repeat(4000 + rng.int(4000));
  return v;
}

function junkQuery(rng: Rng, params: readonly string[] = []): string {
  const parts: string[] = [];
  const n = rng.int(4);
  for (let i = 0; i < n; i++) {
    const name = params.length > 0 && rng.chance(0.6) ? rng.pick(params) : alnum(rng, 1 + rng.int(6));
    parts.push(rng.chance(0.15) ? name : `${name}=${junkValue(rng)}`);
  }
  if (rng.chance(0.1)) parts.push('&&&==&');
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

type Who = 'anonymous' | 'bad-token' | 'operator' | 'admin';

function authHeaders(rng: Rng, who: Who, tokens: FuzzTokens): Array<[string, string]> {
  switch (who) {
    case 'anonymous':
      return [];
    case 'operator':
      return [['Authorization', `Bearer ${tokens.operator}`]];
    case 'admin':
      return [['Authorization', `Bearer ${tokens.admin}`]];
    case 'bad-token':
      return [
        [
          'Authorization',
          rng.pick([
            `Bearer ${alnum(rng, 43)}`,
            `Bearer ${tokens.admin}x`,
            `Bearer ${tokens.operator.slice(0, -1)}`,
            'Bearer ../../../etc/passwd',
            'Bearer',
            'bearer a b',
            'Basic YWRtaW46ZHJpbGwtYWRtaW4tcGFzc3dvcmQtMQ==',
            `Token ${tokens.admin}`,
            `Bearer ${'A'.repeat(2000)}`,
          ]),
        ],
      ];
  }
}

const ANYONE: readonly Who[] = ['anonymous', 'bad-token', 'operator', 'admin'];
const NOT_ADMIN: readonly Who[] = ['anonymous', 'bad-token', 'operator'];

function unknownCluster(rng: Rng, t: FuzzTokens): FuzzCase {
  const id = rng.chance(0.85) ? rng.pick(EVIL_IDS) : rng.pick(CLIMBS);
  const [method, tail] = rng.pick([
    ['GET', 'status'],
    ['GET', 'history?series=raft_index'],
    ['GET', 'events'],
    ['GET', 'snapshots'],
    ['POST', 'snapshots'],
    ['GET', 'alerts/deliveries'],
  ] as const);
  return {
    kind: 'unknown cluster id',
    request: { method, target: `/api/clusters/${id}/${tail}`, headers: authHeaders(rng, rng.pick(ANYONE), t) },
  };
}

function badSnapshotId(rng: Rng, t: FuzzTokens): FuzzCase {
  const id = rng.chance(0.8) ? rng.pick(EVIL_IDS) : rng.pick(CLIMBS);
  const [method, tail] = rng.pick([
    ['GET', ''],
    ['DELETE', ''],
    ['GET', '/download'],
  ] as const);
  return {
    kind: 'bad snapshot id',
    request: {
      method,
      target: `/api/clusters/default/snapshots/${id}${tail}${junkQuery(rng)}`,
      headers: authHeaders(rng, rng.pick(ANYONE), t),
    },
  };
}

function badTokenId(rng: Rng, t: FuzzTokens): FuzzCase {
  return {
    kind: 'bad token id',
    request: {
      method: 'DELETE',
      target: `/api/tokens/${rng.chance(0.8) ? rng.pick(EVIL_IDS) : rng.pick(CLIMBS)}`,
      headers: authHeaders(rng, rng.pick(ANYONE), t),
    },
  };
}

/** Every API route with a dynamic segment, the segment holding an escape that does not decode. */
export function malformedEscapeCases(seed: number, count: number, tokens: FuzzTokens): FuzzCase[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const bad = rng.pick(MALFORMED_ESCAPES);
    const [method, target] = rng.pick([
      ['GET', `/api/clusters/${bad}/status`],
      ['GET', `/api/clusters/${bad}/history?series=raft_index`],
      ['GET', `/api/clusters/${bad}/events`],
      ['POST', `/api/clusters/${bad}/snapshots`],
      ['GET', `/api/clusters/${bad}/alerts/deliveries`],
      ['GET', `/api/clusters/default/snapshots/${bad}`],
      ['DELETE', `/api/clusters/default/snapshots/${bad}`],
      ['GET', `/api/clusters/default/snapshots/${bad}/download`],
      ['DELETE', `/api/tokens/${bad}`],
      ['GET', `/api/${bad}`],
    ] as const);
    return {
      kind: 'malformed escape in a path segment',
      request: { method, target, headers: authHeaders(rng, rng.pick(ANYONE), tokens) },
    };
  });
}

/** Methods each route does not have. */
const WRONG_METHODS: ReadonlyArray<[string, readonly string[]]> = [
  ['/api/clusters', ['POST', 'DELETE', 'PUT', 'PATCH']],
  ['/api/clusters/default/status', ['POST', 'DELETE', 'PUT']],
  ['/api/clusters/default/history', ['POST', 'DELETE']],
  ['/api/clusters/default/events', ['POST', 'DELETE']],
  ['/api/clusters/default/snapshots', ['DELETE', 'PUT', 'PATCH']],
  ['/api/clusters/default/snapshots/20260101T000000Z-abcdef', ['POST', 'PUT']],
  ['/api/clusters/default/snapshots/20260101T000000Z-abcdef/download', ['POST', 'DELETE']],
  ['/api/clusters/default/alerts/deliveries', ['POST', 'DELETE']],
  ['/api/alerts', ['POST', 'DELETE']],
  ['/api/noc', ['POST', 'DELETE']],
  ['/api/audit', ['POST', 'DELETE']],
  ['/api/auth/me', ['POST', 'DELETE']],
  ['/api/auth/login', ['GET', 'DELETE']],
  ['/api/auth/logout', ['GET', 'DELETE']],
  ['/api/tokens', ['DELETE', 'PUT']],
  ['/api/tokens/0123456789abcdef', ['GET', 'POST']],
];

function wrongMethod(rng: Rng, t: FuzzTokens): FuzzCase {
  const [route, methods] = rng.pick(WRONG_METHODS);
  return {
    kind: 'method the route does not have',
    request: {
      method: rng.pick(methods),
      target: `${route}${junkQuery(rng)}`,
      headers: authHeaders(rng, rng.pick(ANYONE), t),
    },
  };
}

function badQuery(rng: Rng, t: FuzzTokens): FuzzCase {
  const shape = rng.int(5);
  let target: string;
  let who: Who = rng.pick(ANYONE);
  if (shape === 0) {
    // history: series is missing or junk, whatever else is there.
    const series = rng.chance(0.3) ? '' : `series=${junkValue(rng)}&`;
    target = `/api/clusters/default/history?${series}${junkQuery(rng, ['member', 'from', 'to']).slice(1)}`;
  } else if (shape === 1) {
    const param = rng.pick(['from', 'to', 'type']);
    target = `/api/clusters/default/events?${param}=${junkValue(rng)}${junkQuery(rng, ['from', 'to']).replace('?', '&')}`;
  } else if (shape === 2) {
    const param = rng.pick(['limit', 'outcome', 'from', 'to']);
    target = `/api/audit?${param}=${junkValue(rng)}${junkQuery(rng, ['actor', 'action']).replace('?', '&')}`;
    who = rng.chance(0.6) ? 'admin' : rng.pick(NOT_ADMIN);
  } else if (shape === 3) {
    target = `/api/alerts?cluster=${junkValue(rng)}`;
  } else {
    // Routes that take no parameters, asked with junk and a token that is no token.
    const route = rng.pick([
      '/api/clusters',
      '/api/clusters/default/status',
      '/api/clusters/default/snapshots',
      '/api/clusters/default/alerts/deliveries',
      '/api/noc',
      '/api/auth/me',
      '/api/tokens',
    ]);
    target = `${route}?${junkQuery(rng).slice(1) || `x=${junkValue(rng)}`}`;
    who = 'bad-token';
  }
  return { kind: 'bad query string', request: { method: 'GET', target, headers: authHeaders(rng, who, t) } };
}

/** Bodies no JSON route accepts: not JSON, not an object, unknown keys, wrong types, hostile values, too big. */
function badJsonBody(rng: Rng, route: 'snapshots' | 'tokens' | 'login'): string {
  const common = [
    '',
    '{',
    '{"a":',
    '}{',
    'null',
    '[]',
    '"just a string"',
    '12',
    'true',
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
    `{"x":"${'\\u0000'.repeat(1000)}"}`,
    '\u00ef\u00bb\u00bf{}',
    '{"a":1,"a":2,"b":{"$gt":""}}',
  ];
  const perRoute = {
    snapshots: [
      '{"memberId":"../../../canary/x"}',
      '{"memberId":"%2e%2e%2f%2e%2e"}',
      '{"memberId":12}',
      '{"memberId":null}',
      '{"memberId":["abc"]}',
      '{"memberId":"abc","extra":1}',
      `{"memberId":"${'f'.repeat(17)}"}`,
      '{"memberId":"ABCDEF"}',
      '{"memberId":"abc\\u0000def"}',
      '{"file":"../../../canary/x.db"}',
    ],
    tokens: [
      '{"name":"","role":"viewer"}',
      '{"name":"x","role":"root"}',
      '{"name":"x","role":"admin","extra":1}',
      '{"name":"x","role":"viewer","expiresAt":"yesterday"}',
      '{"name":"x","role":"viewer","expiresAt":"2001-01-01T00:00:00Z"}',
      `{"name":"${'n'.repeat(101)}","role":"viewer"}`,
      '{"name":["x"],"role":"viewer"}',
      '{"role":"admin"}',
      '{"name":"   ","role":"operator"}',
    ],
    login: [
      '{"username":"admin"}',
      '{"username":"","password":"x"}',
      '{"username":"admin","password":""}',
      `{"username":"${'u'.repeat(65)}","password":"x"}`,
      `{"username":"admin","password":"${'p'.repeat(1025)}"}`,
      '{"username":"admin","password":"wrong","extra":true}',
      '{"username":"admin","password":{"$ne":null}}',
      '{"username":"../../etc/passwd","password":"x"}',
      '{"username":"admin","password":"not-the-password"}',
    ],
  } as const;
  const body = rng.chance(0.6) ? rng.pick(perRoute[route]) : rng.pick(common);
  return body === '' ? '{"unterminated": "' : body;
}

function badBody(rng: Rng, t: FuzzTokens): FuzzCase {
  const route = rng.pick(['snapshots', 'tokens', 'login', 'logout'] as const);
  const target = {
    snapshots: '/api/clusters/default/snapshots',
    tokens: '/api/tokens',
    login: '/api/auth/login',
    logout: '/api/auth/logout',
  }[route];
  const headers: Array<[string, string]> = [];
  // The right identity for the route, most of the time, so the request gets as far as the body.
  const who: Who =
    route === 'snapshots' && rng.chance(0.7)
      ? 'operator'
      : route === 'tokens' && rng.chance(0.7)
        ? 'admin'
        : rng.pick(ANYONE);
  headers.push(...authHeaders(rng, who, t));
  let body: Buffer;
  const size = rng.int(10);
  if (size === 0) {
    // Far over the 64 KiB a JSON body may have.
    body = Buffer.alloc((1 + rng.int(2)) * 1024 * 1024, rng.pick(['{', '[', 'a', ' ']));
  } else if (size === 1) {
    body = Buffer.from(Array.from({ length: 2048 }, () => rng.int(256)));
  } else {
    body = Buffer.from(badJsonBody(rng, route === 'logout' ? 'login' : route), 'utf8');
  }
  const type = rng.pick([
    'application/json',
    'application/json',
    'application/json; charset=utf-16',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=----x',
    'application/octet-stream',
    null,
  ]);
  if (type !== null) headers.push(['Content-Type', type]);
  // Sign-out has nothing to refuse in a body: it is sent from another site, which it must refuse.
  if (route === 'logout' || (route === 'login' && rng.chance(0.2))) {
    headers.push(
      rng.chance(0.5) ? ['Sec-Fetch-Site', rng.pick(['cross-site', 'same-site'])] : ['Origin', 'https://evil.example'],
    );
  }
  return {
    kind: `bad body (${route})`,
    request: { method: 'POST', target: `${target}${junkQuery(rng)}`, headers, body },
  };
}

function oversizedHeaders(rng: Rng, t: FuzzTokens): FuzzCase {
  const route = rng.pick([
    '/api/clusters',
    '/api/clusters/default/status',
    '/api/clusters/default/snapshots',
    '/api/auth/login',
    '/api/tokens',
  ]);
  const big = 'x'.repeat(64 * 1024 + rng.int(1024));
  const headers: Array<[string, string]> = rng.pick([
    [['X-Fuzz', big]],
    [['Cookie', `etcd_dashboard_session=${big}`]],
    [['Authorization', `Bearer ${big}`]],
    Array.from({ length: 1100 }, (_, i) => [`X-Many-${i}`, 'y'.repeat(60)] as [string, string]),
  ] as Array<Array<[string, string]>>);
  return {
    kind: 'oversized headers',
    request: {
      method: rng.pick(['GET', 'POST', 'DELETE']),
      target: route,
      headers: [...authHeaders(rng, rng.pick(ANYONE), t), ...headers],
    },
  };
}

function brokenHttp(rng: Rng): FuzzCase {
  const shape = rng.int(6);
  const base = '/api/clusters/default/status';
  const requests: RawRequest[] = [
    { method: 'G\u0001ET', target: base, headers: [] },
    { method: 'GET', target: `${base} junk`, headers: [] },
    {
      method: 'POST',
      target: '/api/auth/login',
      headers: [
        ['Content-Length', '5'],
        ['Content-Length', '7'],
      ],
    },
    {
      method: 'POST',
      target: '/api/auth/login',
      headers: [['Transfer-Encoding', 'chunked']],
      body: Buffer.from('zz\r\nnot a chunk\r\n'),
    },
    { method: 'GET', target: base, headers: [['Bad Header', 'x']] },
    { method: 'GET', target: base, headers: [['X-Fuzz', 'a\u0000b']] },
  ];
  return { kind: 'broken HTTP', request: requests[shape] as RawRequest };
}

const FAMILIES: Array<[number, (rng: Rng, t: FuzzTokens) => FuzzCase]> = [
  [15, unknownCluster],
  [12, badSnapshotId],
  [5, badTokenId],
  [13, wrongMethod],
  [20, badQuery],
  [20, badBody],
  [8, oversizedHeaders],
  [7, (rng) => brokenHttp(rng)],
];

/** `count` malformed requests, the same ones for the same seed. */
export function fuzzCases(seed: number, count: number, tokens: FuzzTokens): FuzzCase[] {
  const rng = new Rng(seed);
  const total = FAMILIES.reduce((n, [w]) => n + w, 0);
  const cases: FuzzCase[] = [];
  for (let i = 0; i < count; i++) {
    let roll = rng.int(total);
    const family = FAMILIES.find(([w]) => (roll -= w) < 0) as (typeof FAMILIES)[number];
    cases.push(family[1](rng, tokens));
  }
  return cases;
}

/** One line that identifies a request in a report: method, target (shortened) and the notable headers. */
export function describeRequest(r: RawRequest): string {
  const target = r.target.length > 160 ? `${r.target.slice(0, 160)}…(${r.target.length} chars)` : r.target;
  // Tokens are shown by kind and length only.
  const shown = (k: string, v: string) =>
    /^authorization$/i.test(k)
      ? `${v.split(' ')[0]} …(${v.length} chars)`
      : v.length > 60
        ? `${v.slice(0, 40)}…(${v.length} chars)`
        : v;
  const headers = r.headers.map(([k, v]) => `${k}: ${shown(k, v)}`).join('; ');
  const body = r.body
    ? ` body ${r.body.length} bytes: ${JSON.stringify(r.body.subarray(0, 60).toString('latin1'))}`
    : '';
  return `${r.method} ${target}${headers ? ` [${headers}]` : ''}${body}`;
}
