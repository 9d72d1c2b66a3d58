// An etcd release number as members report it in Status ("3.6.14"), read and compared. Shared with the browser.

export interface EtcdVersion {
  major: number;
  minor: number;
  patch: number;
  /** "3.6.14", without a leading v or a suffix. */
  text: string;
}

export function parseEtcdVersion(text: string | null | undefined): EtcdVersion | null {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text?.trim() ?? '');
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text: `${m[1]}.${m[2]}.${m[3]}` };
}

export function compareEtcdVersions(a: EtcdVersion, b: EtcdVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** The lowest release among the members' reports: a call may reach any of them; null when none reported one. */
export function lowestVersion(versions: Array<string | null | undefined>): string | null {
  const parsed = versions.map(parseEtcdVersion).filter((v) => v !== null);
  parsed.sort(compareEtcdVersions);
  return parsed[0]?.text ?? null;
}

/** `v` is `major.minor.patch` or later. */
export function atLeast(v: EtcdVersion, major: number, minor: number, patch = 0): boolean {
  return compareEtcdVersions(v, { major, minor, patch, text: '' }) >= 0;
}
