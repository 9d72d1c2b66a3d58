// Records every response body a spec sees (the browser's and its own API calls) and searches bodies and logs for
// key material: "PRIVATE KEY", and the base64 of the configured key, certificate and CA files, however escaped.
import type { APIRequestContext, APIResponse, Page, Response } from '@playwright/test';
import { readFileSync } from 'node:fs';

export interface SeenBody {
  /** "GET http://…/api/tokens → 401" */
  what: string;
  status: number;
  url: string;
  /** 'document', 'fetch', 'script'… for the browser's responses; 'api' for the spec's own calls. */
  kind: string;
  body: string;
}

type FetchOptions = NonNullable<Parameters<APIRequestContext['fetch']>[1]>;

export class BodyRecorder {
  readonly seen: SeenBody[] = [];
  private readonly pending: Array<Promise<void>> = [];

  private add(method: string, url: string, status: number, kind: string, body: string): void {
    this.seen.push({ what: `${method} ${url} → ${status}`, status, url, kind, body });
  }

  /** Records every response the page receives, from documents to scripts, once its body has arrived. */
  watch(page: Page): void {
    page.on('response', (res) => this.pending.push(this.take(res)));
  }

  private async take(res: Response): Promise<void> {
    let body: string;
    try {
      body = await res.text();
    } catch {
      return; // a redirect, or a page that navigated away before the body came: nothing was shown
    }
    this.add(res.request().method(), res.url(), res.status(), res.request().resourceType(), body);
  }

  /** Waits for the bodies of every response seen so far. */
  async settle(): Promise<void> {
    await Promise.all(this.pending.splice(0));
  }

  /** An API call by the spec itself, recorded like the browser's. */
  async call(api: APIRequestContext, url: string, options: FetchOptions = {}): Promise<APIResponse> {
    const res = await api.fetch(url, options);
    this.add(options.method ?? 'GET', url, res.status(), 'api', await res.text());
    return res;
  }
}

export interface Needle {
  label: string;
  text: string;
}

/** Line breaks as JSON, HTML, RSC payloads and logs may write them, and all whitespace: PEM text rejoined. */
function squeeze(text: string): string {
  return text
    .replace(/\\r|\\n|\\u000[ad]|&#10;|&#x0?a;|&#13;/gi, '')
    .replace(/\\\//g, '/')
    .replace(/\\u002[bf]/gi, (m) => (m.toLowerCase() === '\\u002b' ? '+' : '/'))
    .replace(/\s+/g, '');
}

/**
 * What must never be shown: "PRIVATE KEY", and for each PEM file its whole base64 body and each of its lines
 * (a line is 64 characters, 48 bytes: unique, and enough to leak part of a key); plus literal secrets such as
 * passwords.
 */
export function secretNeedles(pemFiles: Record<string, string>, literals: Record<string, string> = {}): Needle[] {
  const needles: Needle[] = [{ label: '"PRIVATE KEY"', text: 'PRIVATE KEY' }];
  for (const [label, file] of Object.entries(pemFiles)) {
    const pem = readFileSync(file, 'utf8');
    const lines = pem
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0 && !l.startsWith('-----'));
    if (lines.length === 0) throw new Error(`${label}: ${file} has no PEM body`);
    needles.push({ label: `${label} (whole body)`, text: lines.join('') });
    lines.filter((l) => l.length >= 32).forEach((l, i) => needles.push({ label: `${label} (line ${i + 1})`, text: l }));
  }
  for (const [label, text] of Object.entries(literals)) needles.push({ label, text });
  return needles;
}

/** Labels of the needles in `body`, found as written or with line breaks, escapes and whitespace taken out. */
export function findSecrets(body: string, needles: Needle[]): string[] {
  const squeezed = squeeze(body);
  const found = needles.filter((n) => body.includes(n.text) || squeezed.includes(squeeze(n.text)));
  return [...new Set(found.map((n) => n.label.replace(/ \(line \d+\)$/, ' (a line)')))];
}
