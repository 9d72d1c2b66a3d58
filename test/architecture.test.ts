// The shape of lib/, as docs/architecture.md draws it, checked from the code's own imports: folders depend on each
// other one way only, nothing below the composition root reaches up to it, and HTTP stays at the edge.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const LIB = path.join(ROOT, 'lib');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

const importsOf = (file: string) =>
  ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((r) => r.fileName);

/** The lib/ folder an import names, or null for a package or a file outside lib/. */
function libFolderOf(specifier: string, from: string): string | null {
  let target: string;
  if (specifier.startsWith('@/lib/')) target = path.join(LIB, specifier.slice('@/lib/'.length));
  else if (specifier.startsWith('.')) target = path.resolve(path.dirname(from), specifier);
  else return null;
  const rel = path.relative(LIB, target);
  return rel.startsWith('..') ? null : (rel.split(path.sep)[0] ?? null);
}

const folderOf = (file: string) => path.relative(LIB, file).split(path.sep)[0] as string;

/** folder → the folders it imports, each with the files that do. */
function folderImports(): Map<string, Map<string, string[]>> {
  const edges = new Map<string, Map<string, string[]>>();
  for (const file of sourceFiles(LIB)) {
    const from = folderOf(file);
    for (const specifier of importsOf(file)) {
      const to = libFolderOf(specifier, file);
      if (!to || to === from) continue;
      const byTarget = edges.get(from) ?? new Map<string, string[]>();
      byTarget.set(to, [...(byTarget.get(to) ?? []), path.relative(ROOT, file)]);
      edges.set(from, byTarget);
    }
  }
  return edges;
}

describe('lib/ folders', () => {
  const edges = folderImports();

  it('finds the imports it checks (the composition root imports the services it builds)', () => {
    expect([...(edges.get('app')?.keys() ?? [])]).toEqual(
      expect.arrayContaining(['access', 'alerts', 'collector', 'snapshots', 'config', 'db']),
    );
  });

  it('no two folders import each other', () => {
    const mutual: string[] = [];
    for (const [a, targets] of edges) {
      for (const [b, files] of targets) {
        const back = edges.get(b)?.get(a);
        if (a < b && back) mutual.push(`${a} <-> ${b}: ${files.join(', ')} / ${back.join(', ')}`);
      }
    }
    expect(mutual).toEqual([]);
  });

  it('nothing imports the composition root (lib/app) but itself', () => {
    const reaching = [...edges].filter(([from, targets]) => from !== 'app' && targets.has('app'));
    expect(reaching.map(([from, targets]) => `${from}: ${targets.get('app')?.join(', ')}`)).toEqual([]);
  });

  it('HTTP stays at the edge: no domain folder imports lib/api or Next.js', () => {
    const edge = new Set(['api', 'access', 'app', 'query']);
    const offenders = sourceFiles(LIB)
      .filter((file) => !edge.has(folderOf(file)))
      .flatMap((file) =>
        importsOf(file)
          .filter((s) => s === 'next' || s.startsWith('next/') || libFolderOf(s, file) === 'api')
          .map((s) => `${path.relative(ROOT, file)} imports ${s}`),
      );
    expect(offenders).toEqual([]);
  });
});
