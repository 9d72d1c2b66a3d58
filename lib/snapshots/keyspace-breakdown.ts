// Who uses the keyspace: live keys, their bytes and stored revisions per key prefix, fed from the "key" bucket in revision order.
import type { MvccKeyValue, RevisionKey } from './mvcc-key-value';
import type { KeyspacePrefix } from './snapshot-types';

/** Flat keyspaces ("a", "b", … with no "/") would make a prefix per key; past this many the rest share one row. */
export const MAX_PREFIXES = 10_000;
/** That row's prefix: it has a "/" but does not start with one, which no real prefix can. */
export const OTHER_PREFIXES = '(other prefixes)/';
/** Prefixes longer than this many bytes are cut, so a few huge keys cannot make the prefix table large. */
const MAX_PREFIX_BYTES = 256;
const SLASH = 0x2f;

/** The first two path segments of a key starting with "/", else its first segment up to "/". */
export function keyPrefix(userKey: Uint8Array): string {
  const key = Buffer.from(userKey.buffer, userKey.byteOffset, userKey.byteLength);
  return key.toString('utf8', 0, prefixEnd(key, 0, key.length));
}

/** Where keyPrefix's bytes end in `buf[start…end)` (a key), as an index into `buf`. */
function prefixEnd(buf: Uint8Array, start: number, end: number): number {
  let cut = -1;
  if (start < end && buf[start] === SLASH) {
    let slashes = 0;
    for (let i = start + 1; i < end; i++) {
      if (buf[i] === SLASH && ++slashes === 2) {
        cut = i;
        break;
      }
    }
  } else {
    for (let i = start; i < end; i++) {
      if (buf[i] === SLASH) {
        cut = i;
        break;
      }
    }
  }
  if (cut < 0) cut = end;
  return Math.min(cut, start + MAX_PREFIX_BYTES);
}

/** FNV-1a over `buf[start…end)`. */
function fnv1a(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}

// Packing of a user key's state into one float64: bytes × 2^15 + prefix index × 2 + tombstone bit.
const PREFIX_SHIFT = 2;
const BYTES_SHIFT = 2 ** 15; // > 2 × (MAX_PREFIXES + 1)

/**
 * Latest state per user key, keyed by a 64-bit hash of the key (two 32-bit hashes), never the key itself.
 * Cost: a 16-byte slot per key in an open-addressing table kept at most 70 % full, so 23–46 bytes per distinct
 * user key (about 46 MB for a million keys at worst, plus a copy while it grows). Two keys whose 64-bit hashes
 * collide (≈ n²/2^65: 1 in 30 million for a million keys) would be counted as one.
 */
class UserKeyTable {
  private capacity = 1024;
  private used = 0;
  private hashes = new Uint32Array(this.capacity * 2);
  private states = new Float64Array(this.capacity);

  /** The key is `buf[start…end)`. */
  set(buf: Uint8Array, start: number, end: number, state: number): void {
    // FNV-1a and a multiply-xorshift hash over the same bytes: two independent 32-bit halves.
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c ^ (end - start);
    for (let i = start; i < end; i++) {
      const b = buf[i]!;
      h1 = Math.imul(h1 ^ b, 0x01000193);
      h2 = Math.imul(h2 ^ b, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    h1 >>>= 0;
    h2 = (h2 >>> 0) | (h1 === 0 && h2 === 0 ? 1 : 0); // (0, 0) marks an empty slot
    if ((this.used + 1) * 10 > this.capacity * 7) this.grow();
    this.put(h1, h2 >>> 0, state);
  }

  private put(h1: number, h2: number, state: number): void {
    const mask = this.capacity - 1;
    let slot = h2 & mask;
    for (;;) {
      const a = this.hashes[slot * 2]!;
      const b = this.hashes[slot * 2 + 1]!;
      if (a === 0 && b === 0) {
        this.hashes[slot * 2] = h1;
        this.hashes[slot * 2 + 1] = h2;
        this.states[slot] = state;
        this.used++;
        return;
      }
      if (a === h1 && b === h2) {
        this.states[slot] = state;
        return;
      }
      slot = (slot + 1) & mask;
    }
  }

  private grow(): void {
    const { hashes, states } = this;
    this.capacity *= 2;
    this.used = 0;
    this.hashes = new Uint32Array(this.capacity * 2);
    this.states = new Float64Array(this.capacity);
    for (let slot = 0; slot < states.length; slot++) {
      const a = hashes[slot * 2]!;
      const b = hashes[slot * 2 + 1]!;
      if (a !== 0 || b !== 0) this.put(a, b, states[slot]!);
    }
  }

  forEachState(visit: (state: number) => void): void {
    for (let slot = 0; slot < this.capacity; slot++) {
      if (this.hashes[slot * 2] !== 0 || this.hashes[slot * 2 + 1] !== 0) visit(this.states[slot]!);
    }
  }
}

function sameBytes(a: Buffer, buf: Uint8Array, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}

/** Feed every "key" bucket entry in key (= revision) order, then read `result()`: the latest revision of a key wins. */
export class KeyspaceBreakdown {
  private readonly prefixIndex = new Map<string, number>();
  private readonly prefixes: string[] = [];
  private readonly revisions: number[] = [];
  private readonly latest = new UserKeyTable();
  /** Prefix bytes seen before → their row, by FNV-1a of the bytes; the bytes are kept to rule out a collision. */
  private readonly byBytes = new Map<number, { bytes: Buffer; index: number }>();

  add(revision: RevisionKey, kv: Pick<MvccKeyValue, 'key' | 'value'>): void {
    this.addSpan(revision.tombstone, kv.key, 0, kv.key.length, kv.value.length);
  }

  /** Like `add`, for a user key at `buf[keyStart…keyEnd)` whose value is `valueLength` bytes: nothing is copied. */
  addSpan(tombstone: boolean, buf: Uint8Array, keyStart: number, keyEnd: number, valueLength: number): void {
    const index = this.prefixIndexOf(buf, keyStart, prefixEnd(buf, keyStart, keyEnd));
    this.revisions[index] = (this.revisions[index] ?? 0) + 1;
    const bytes = tombstone ? 0 : keyEnd - keyStart + valueLength;
    this.latest.set(buf, keyStart, keyEnd, bytes * BYTES_SHIFT + index * PREFIX_SHIFT + (tombstone ? 1 : 0));
  }

  /** The row of the prefix `buf[start…end)`: by its bytes when seen before, else by its text (as keyPrefix gives it). */
  private prefixIndexOf(buf: Uint8Array, start: number, end: number): number {
    const h = fnv1a(buf, start, end);
    const known = this.byBytes.get(h);
    if (known !== undefined && sameBytes(known.bytes, buf, start, end)) return known.index;
    const view = Buffer.from(buf.buffer, buf.byteOffset + start, end - start);
    const index = this.indexOf(view.toString('utf8'));
    // Rows past MAX_PREFIXES share one: keep those out, so that the map stays as small as the prefix table.
    if (known === undefined && this.byBytes.size < MAX_PREFIXES)
      this.byBytes.set(h, { bytes: Buffer.from(view), index });
    return index;
  }

  private indexOf(prefix: string): number {
    const known = this.prefixIndex.get(prefix);
    if (known !== undefined) return known;
    if (this.prefixes.length < MAX_PREFIXES) {
      this.prefixes.push(prefix);
      this.prefixIndex.set(prefix, this.prefixes.length - 1);
      return this.prefixes.length - 1;
    }
    this.prefixes[MAX_PREFIXES] = OTHER_PREFIXES;
    return MAX_PREFIXES;
  }

  /** Per prefix: live keys, their key + value bytes (latest revision), and all revisions stored; largest bytes first. */
  result(): KeyspacePrefix[] {
    const rows: KeyspacePrefix[] = this.prefixes.map((prefix, i) => ({
      prefix,
      liveKeys: 0,
      bytes: 0,
      revisions: this.revisions[i] ?? 0,
    }));
    this.latest.forEachState((state) => {
      if (state % 2 === 1) return; // latest revision is a tombstone
      const row = rows[Math.floor(state / PREFIX_SHIFT) % (BYTES_SHIFT / PREFIX_SHIFT)];
      if (!row) return;
      row.liveKeys++;
      row.bytes += Math.floor(state / BYTES_SHIFT);
    });
    return rows.sort(
      (a, b) =>
        b.bytes - a.bytes || b.revisions - a.revisions || (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0),
    );
  }
}
