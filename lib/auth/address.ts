// Which peer addresses are trusted reverse proxies (whose forwarded-for headers may be believed).
import 'server-only';
import { BlockList, isIP } from 'node:net';

export interface TrustedProxies {
  /** Whether `ip` (IPv4, IPv6, or IPv4-mapped IPv6) is one of the trusted addresses or inside a trusted range. */
  isTrusted(ip: string): boolean;
  /** The entries as given, for a start-up log line. */
  readonly entries: readonly string[];
}

type Family = 'ipv4' | 'ipv6';

interface Address {
  address: string;
  family: Family;
}

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** The address and its family, with `::ffff:a.b.c.d` read as the IPv4 address it carries; null if not an address. */
function parseAddress(ip: string): Address | null {
  // A zone (fe80::1%eth0) names the interface, not the host.
  const bare = ip
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '');
  const mapped = MAPPED_V4.exec(bare);
  const address = mapped?.[1] ?? bare;
  const version = isIP(address);
  if (version === 4) return { address, family: 'ipv4' };
  if (version === 6) return { address, family: 'ipv6' };
  return null;
}

function addEntry(list: BlockList, entry: string): void {
  const fail = () => new Error(`trusted proxy ${JSON.stringify(entry)} is not an IPv4/IPv6 address or CIDR range`);
  const slash = entry.indexOf('/');
  const parsed = parseAddress(slash === -1 ? entry : entry.slice(0, slash));
  if (!parsed) throw fail();
  if (slash === -1) {
    list.addAddress(parsed.address, parsed.family);
    return;
  }
  const prefixText = entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) throw fail();
  let prefix = Number(prefixText);
  // ::ffff:10.0.0.0/104 is the IPv4 range 10.0.0.0/8 written as IPv6.
  if (parsed.family === 'ipv4' && MAPPED_V4.test(entry.slice(0, slash).trim())) prefix -= 96;
  if (prefix < 0 || prefix > (parsed.family === 'ipv4' ? 32 : 128)) throw fail();
  list.addSubnet(parsed.address, prefix, parsed.family);
}

/**
 * Parses a comma- or space-separated list of addresses and CIDR ranges (`127.0.0.1, 10.0.0.0/8, ::1, fd00::/8`);
 * an empty list trusts no one. Throws an Error naming the first entry that is neither.
 */
export function parseTrustedProxies(list: string): TrustedProxies {
  const entries = list.split(/[\s,]+/).filter((e) => e.length > 0);
  const blockList = new BlockList();
  for (const entry of entries) addEntry(blockList, entry);
  // Asked on every request, mostly about the same few peers; the list never changes once parsed.
  const verdicts = new Map<string, boolean>();
  return {
    entries,
    isTrusted(ip: string): boolean {
      const known = verdicts.get(ip);
      if (known !== undefined) return known;
      const parsed = typeof ip === 'string' ? parseAddress(ip) : null;
      const trusted = parsed !== null && blockList.check(parsed.address, parsed.family);
      // Bounded in count and size: X-Forwarded-For hops are client-chosen strings (an IPv6 address is ≤ 45 chars).
      if (ip.length <= 64) {
        if (verdicts.size >= 1024) verdicts.clear();
        verdicts.set(ip, trusted);
      }
      return trusted;
    },
  };
}
