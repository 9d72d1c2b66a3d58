import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ETCD_LINES,
  ETCD_RELEASES,
  etcdBinaries,
  etcdCacheDir,
  etcdLineFromEnv,
  goModuleDir,
  parseEtcdLine,
  pickDefaultLine,
} from './etcd-versions';
import { debianMirrorFromSources, debianSourceLine } from './debian-packages';

describe('the supported versions', () => {
  it('lists one release per line, oldest first, with only 3.4 at end of life', () => {
    expect(ETCD_LINES).toEqual(['3.4', '3.5', '3.6', '3.7']);
    for (const line of ETCD_LINES) {
      expect(ETCD_RELEASES[line].line).toBe(line);
      expect(ETCD_RELEASES[line].version.startsWith(`${line}.`)).toBe(true);
    }
    expect(ETCD_LINES.filter((line) => ETCD_RELEASES[line].endOfLife)).toEqual(['3.4']);
  });

  it('takes 3.4 from apt, 3.5 from sid debs, and builds 3.6 and 3.7 with Go', () => {
    expect(ETCD_LINES.map((line) => ETCD_RELEASES[line].source)).toEqual(['apt', 'sid-deb', 'go-build', 'go-build']);
  });

  it('builds each Go line from a module pinned to exactly the version in the table', () => {
    for (const line of ETCD_LINES.filter((l) => ETCD_RELEASES[l].source === 'go-build')) {
      const goMod = readFileSync(path.join(goModuleDir(line), 'go.mod'), 'utf8');
      const version = `v${ETCD_RELEASES[line].version}`;
      for (const mod of ['server', 'etcdctl', 'etcdutl']) {
        expect(goMod).toContain(`go.etcd.io/etcd/${mod}/v3 ${version}\n`);
      }
    }
  });
});

describe('ETCD_DASHBOARD_ETCD_VERSION', () => {
  it('accepts a supported line and nothing else', () => {
    expect(parseEtcdLine('3.6')).toBe('3.6');
    expect(parseEtcdLine(' 3.7 ')).toBe('3.7');
    expect(parseEtcdLine('3.6.14')).toBeNull();
    expect(parseEtcdLine('3.3')).toBeNull();
  });

  it('means "the default" when unset or empty, and refuses an unknown line by name', () => {
    expect(etcdLineFromEnv({})).toBeNull();
    expect(etcdLineFromEnv({ ETCD_DASHBOARD_ETCD_VERSION: '' })).toBeNull();
    expect(etcdLineFromEnv({ ETCD_DASHBOARD_ETCD_VERSION: '3.5' })).toBe('3.5');
    expect(() => etcdLineFromEnv({ ETCD_DASHBOARD_ETCD_VERSION: '3.8' })).toThrow(
      /ETCD_DASHBOARD_ETCD_VERSION must be one of 3.4, 3.5, 3.6, 3.7/,
    );
  });
});

describe('the default line', () => {
  it('is 3.7 wherever Go can build it', () => {
    expect(pickDefaultLine(['3.4', '3.5', '3.6', '3.7'])).toBe('3.7');
  });

  it('falls back to 3.5 from sid without Go, and to the end-of-life 3.4 last', () => {
    expect(pickDefaultLine(['3.4', '3.5'])).toBe('3.5');
    expect(pickDefaultLine(['3.4'])).toBe('3.4');
  });

  it('keeps an already-built 3.6 when Go is gone, and has nothing to offer on a bare machine', () => {
    expect(pickDefaultLine(['3.4', '3.5', '3.6'])).toBe('3.6');
    expect(pickDefaultLine([])).toBeNull();
  });
});

describe('where binaries live', () => {
  let dir = '';
  afterEach(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  it('keeps fetched and built versions in a cache outside the repo, by exact version', () => {
    expect(etcdCacheDir({ ETCD_DASHBOARD_CACHE: '/var/cache/x' })).toBe('/var/cache/x/etcd');
    expect(etcdCacheDir({})).toBe(path.join(os.homedir(), '.cache', 'etcd-dashboard', 'etcd'));
  });

  it('reports a cached version only when etcd, etcdctl and etcdutl are all there', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'etcd-versions-test-'));
    const env = { ETCD_DASHBOARD_CACHE: dir };
    const versionDir = path.join(dir, 'etcd', ETCD_RELEASES['3.6'].version);
    mkdirSync(versionDir, { recursive: true });
    writeFileSync(path.join(versionDir, 'etcd'), '');
    writeFileSync(path.join(versionDir, 'etcdctl'), '');
    expect(etcdBinaries('3.6', env)).toBeNull();
    writeFileSync(path.join(versionDir, 'etcdutl'), '');
    expect(etcdBinaries('3.6', env)).toEqual({
      version: '3.6.14',
      etcd: path.join(versionDir, 'etcd'),
      etcdctl: path.join(versionDir, 'etcdctl'),
      etcdutl: path.join(versionDir, 'etcdutl'),
    });
    expect(etcdBinaries('3.7', env)).toBeNull();
  });
});

describe('the sid mirror', () => {
  it("reads the machine's own archive from deb822 sources, skipping the security suite", () => {
    const sources = [
      'Types: deb',
      'URIs: http://deb.debian.org/debian-security',
      'Suites: bookworm-security',
      'Components: main',
      '',
      'Types: deb',
      '# http://snapshot.debian.org/archive/debian/20250520T000000Z',
      'URIs: http://mirror.example/debian',
      'Suites: bookworm bookworm-updates',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
    ].join('\n');
    expect(debianMirrorFromSources(sources)).toBe('http://mirror.example/debian');
  });

  it('reads a one-line sources.list too, and finds nothing in an empty one', () => {
    const list =
      'deb http://security.debian.org/debian-security bookworm-security main\ndeb [arch=amd64] http://m.example/debian bookworm main\n';
    expect(debianMirrorFromSources(list)).toBe('http://m.example/debian');
    expect(debianMirrorFromSources('# nothing here\n')).toBeNull();
  });

  it("asks sid's main component, signed by Debian's archive key", () => {
    expect(debianSourceLine('http://deb.debian.org/debian', 'sid')).toBe(
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main',
    );
  });
});
