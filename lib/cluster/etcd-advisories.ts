// What the etcd project says about an etcd release an SRE runs: end of life, known data-inconsistency releases, and
// the minimum patch releases its upgrade guides ask for. Pure, shared with the browser.
import type { Severity } from './severity';
import { parseEtcdVersion } from './etcd-version';

export interface EtcdAdvisory {
  severity: Severity;
  /** One line for the alert: what is wrong with this version. */
  reason: string;
}

/** The worst advisory for one release, or null when the etcd project has nothing against it. */
export function etcdAdvisory(version: string): EtcdAdvisory | null {
  const v = parseEtcdVersion(version);
  if (v === null || v.major !== 3) return null;
  if (v.minor <= 3) {
    return { severity: 'critical', reason: `etcd ${version} is long past end of life: no fixes, known data loss bugs` };
  }
  if (v.minor === 4) {
    return {
      severity: 'warning',
      reason:
        v.patch < 22
          ? `etcd ${version}: 3.4 is end of life (June 2026), and releases below 3.4.22 miss data-safety fixes`
          : `etcd ${version}: 3.4 is end of life (June 2026)`,
    };
  }
  if (v.minor === 5) {
    if (v.patch <= 2) {
      return {
        severity: 'critical',
        reason: `etcd ${version} can leave members with different data (the 3.5.0–3.5.2 inconsistency bug)`,
      };
    }
    if (v.patch < 6)
      return { severity: 'warning', reason: `etcd ${version}: the etcd project asks for 3.5.6 or later` };
    if (v.patch < 20) {
      return {
        severity: 'info',
        reason: `etcd ${version}: go to 3.5.20 or later before upgrading to 3.6 (learner promotions can be lost)`,
      };
    }
  }
  return null;
}
