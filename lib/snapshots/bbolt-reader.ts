// Reads a bbolt database (etcd's backend, and the body of a snapshot) page by page with positioned reads, never whole.
import 'server-only';
import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { SnapshotFormatError } from './snapshot-format-error';

// On-disk layout of bbolt 1.3 (go.etcd.io/bbolt page.go, db.go, bucket.go), little-endian as written on amd64.
const PAGE_HEADER = 16; // id u64, flags u16, count u16, overflow u32
const ELEMENT = 16; // branch: pos u32, ksize u32, pgid u64 — leaf: flags u32, pos u32, ksize u32, vsize u32
const BUCKET_HEADER = 16; // root pgid u64 (0 = inline), sequence u64
const META_OFFSET = PAGE_HEADER;
const META_CHECKSUMMED = 56; // magic, version, pageSize, flags, root bucket (16), freelist, pgid, txid
const BRANCH_PAGE = 0x01;
const LEAF_PAGE = 0x02;
const META_PAGE = 0x04;
const FREELIST_PAGE = 0x10;
const BUCKET_LEAF = 0x01;
const MAGIC = 0xed0cdaed;
const VERSION = 2;
const MAX_DEPTH = 64; // a B+tree of 4 KiB pages is a handful of levels deep; deeper means a cycle
const MAX_SAFE_HIGH = 2 ** 21; // high 32 bits of a u64 that still fits a JavaScript number
// Reads are synchronous (from the page cache they take microseconds, and an await per page cost more than the reads);
// a walk gives the event loop a turn after every this many bytes of pages so that a large file does not stall it.
const YIELD_EVERY_BYTES = 8 * 1024 * 1024;
// Page sizes to try when meta page 0 is unreadable and page 1's place is unknown; 4096 first (os.Getpagesize).
const PAGE_SIZES = [4096, 512, 1024, 2048, 8192, 16384, 32768, 65536];

export interface BoltMeta {
  /** The meta page in use: the valid one with the higher txid. */
  page: 0 | 1;
  pageSize: number;
  flags: number;
  /** Page of the root bucket, whose keys are the top-level buckets. */
  root: number;
  /** null when the freelist is not persisted (bbolt NoFreelistSync, as etcd 3.4 runs it). */
  freelist: number | null;
  /** High-water mark: pages 0…pgid-1 are in use, so the database is pgid × pageSize bytes. */
  pgid: number;
  txid: number;
}

export interface BoltBucket {
  name: Buffer;
  /** Root page of the bucket's B+tree; 0 for an inline bucket, whose single leaf page is `inline`. */
  root: number;
  inline: Buffer | null;
}

/**
 * One key/value; `value` is null for a nested bucket (as bbolt's Bucket.ForEach gives it). Both are views into a reused
 * read buffer, valid during the call and until the end of their leaf page (see `onLeafEnd`): copy what you keep.
 */
export type EntryVisitor = (key: Buffer, value: Buffer | null) => void;

export interface BoltReaderOptions {
  /** Bytes read at once around a missing page; pages are read in aligned blocks of this size (default 1 MiB). */
  blockBytes?: number;
  /** Blocks kept (least recently used goes first); default 8, so 8 MiB with the default block size. */
  cachedBlocks?: number;
  /** Refuse a page (with its overflow) larger than this: a damaged overflow count must not make us read the file whole. */
  maxPageBytes?: number;
}

/** What a walk met: handy for tests and for judging a file's shape. */
export interface BoltWalkStats {
  branchPages: number;
  leafPages: number;
  overflowPages: number;
  inlineBuckets: number;
}

interface Page {
  id: number;
  flags: number;
  count: number;
  overflow: number;
  /** The page and its overflow pages; element offsets are relative to its start. */
  data: Buffer;
}

function fnv1a64(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

/** A u64 as a number, or null when it cannot be a page id or txid of a real file (beyond 2^53). */
function u64(buf: Buffer, at: number): number | null {
  const hi = buf.readUInt32LE(at + 4);
  return hi >= MAX_SAFE_HIGH ? null : hi * 2 ** 32 + buf.readUInt32LE(at);
}

type MetaCheck = { ok: true; meta: BoltMeta } | { ok: false; reason: string };

/** Parses and validates the meta at `buf[0…]` (a whole page) the way bbolt's meta.validate does. */
function parseMeta(buf: Buffer, page: 0 | 1): MetaCheck {
  if (buf.length < META_OFFSET + 64) return { ok: false, reason: `meta page ${page} is cut short` };
  const m = buf.subarray(META_OFFSET, META_OFFSET + 64);
  const magic = m.readUInt32LE(0);
  if (magic !== MAGIC) {
    return {
      ok: false,
      reason: `meta page ${page} has magic 0x${magic.toString(16).padStart(8, '0')}, not 0xed0cdaed`,
    };
  }
  const version = m.readUInt32LE(4);
  if (version !== VERSION) return { ok: false, reason: `meta page ${page} has version ${version}, not ${VERSION}` };
  const stored = m.readBigUInt64LE(META_CHECKSUMMED);
  const computed = fnv1a64(m.subarray(0, META_CHECKSUMMED));
  if (stored !== computed) {
    return {
      ok: false,
      reason: `meta page ${page} checksum mismatch (stored ${stored.toString(16)}, computed ${computed.toString(16)})`,
    };
  }
  const pageSize = m.readUInt32LE(8);
  if (pageSize < 512 || pageSize > 1 << 20 || (pageSize & (pageSize - 1)) !== 0) {
    return { ok: false, reason: `meta page ${page} has an impossible page size ${pageSize}` };
  }
  const root = u64(m, 16);
  const freelistHi = m.readUInt32LE(36);
  const freelistLo = m.readUInt32LE(32);
  const noFreelist = freelistHi === 0xffffffff && freelistLo === 0xffffffff;
  const freelist = noFreelist ? null : u64(m, 32);
  const pgid = u64(m, 40);
  const txid = u64(m, 48);
  if (root === null || pgid === null || txid === null || (!noFreelist && freelist === null)) {
    return { ok: false, reason: `meta page ${page} holds page ids or txid beyond 2^53` };
  }
  if (pgid < 3 || root < 2 || root >= pgid || (freelist !== null && (freelist < 2 || freelist >= pgid))) {
    return {
      ok: false,
      reason: `meta page ${page} is inconsistent: root page ${root}, freelist page ${freelist}, high-water mark ${pgid}`,
    };
  }
  return { ok: true, meta: { page, pageSize, flags: m.readUInt32LE(12), root, freelist, pgid, txid } };
}

function describeFlags(flags: number): string {
  const names = [
    [BRANCH_PAGE, 'branch'],
    [LEAF_PAGE, 'leaf'],
    [META_PAGE, 'meta'],
    [FREELIST_PAGE, 'freelist'],
  ] as const;
  const known = names.filter(([bit]) => flags & bit).map(([, name]) => name);
  return `${known.join('+') || 'unknown'} (flags 0x${flags.toString(16).padStart(2, '0')})`;
}

export class BoltReader {
  readonly stats: BoltWalkStats = { branchPages: 0, leafPages: 0, overflowPages: 0, inlineBuckets: 0 };
  /** Aligned blocks by start offset; Map order is the LRU order. */
  private readonly blocks = new Map<number, Buffer>();
  /** The block used last, checked before the map: consecutive pages mostly share one. */
  private lastStart = -1;
  private lastBlock: Buffer | null = null;
  /** Reused for a page whose overflow crosses a block's end; it is only read before the next page is fetched. */
  private scratch: Buffer | null = null;
  /** The last key of the previous leaf page, copied (its page's block may be reused); `previousLength` bytes of it. */
  private previous = Buffer.allocUnsafe(256);
  private previousLength = -1;
  private sinceYield = 0;
  private walking = false;
  private readonly blockBytes: number;
  private readonly cachedBlocks: number;
  private readonly maxPageBytes: number;

  private constructor(
    private readonly fh: FileHandle,
    /** The file's size: a snapshot has 32 bytes (the SHA-256) after `dbBytes`, a live member's db often more. */
    readonly fileSize: number,
    readonly meta: BoltMeta,
    options: BoltReaderOptions,
  ) {
    // Blocks hold whole pages, so a page without overflow never straddles two blocks.
    const blockBytes = options.blockBytes ?? 1024 * 1024;
    this.blockBytes = Math.max(meta.pageSize, Math.floor(blockBytes / meta.pageSize) * meta.pageSize);
    this.cachedBlocks = Math.max(1, options.cachedBlocks ?? 8);
    this.maxPageBytes = options.maxPageBytes ?? 64 * 1024 * 1024;
  }

  /** Opens `file` and picks its meta page; throws SnapshotFormatError when it is not a usable bbolt database. */
  static async open(file: string, options: BoltReaderOptions = {}): Promise<BoltReader> {
    const fh = await open(file, 'r');
    try {
      const { size } = await fh.stat();
      const meta = await BoltReader.readMeta(fh, size);
      const dbBytes = meta.pgid * meta.pageSize;
      if (size < dbBytes) {
        throw new SnapshotFormatError(
          `truncated: the database needs ${dbBytes} bytes (${meta.pgid} pages of ${meta.pageSize}) but the file has ${size}`,
        );
      }
      return new BoltReader(fh, size, meta, options);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  private static async readMeta(fh: FileHandle, size: number): Promise<BoltMeta> {
    if (size < 1024) throw new SnapshotFormatError(`too small for a bbolt database: ${size} bytes`);
    const readAt = async (offset: number, length: number): Promise<Buffer> => {
      const buf = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      return buf.subarray(0, bytesRead);
    };
    // Like bbolt: take the page size from meta 0; if meta 0 is damaged, look for meta 1 at each likely page size.
    const first = parseMeta(await readAt(0, 4096), 0);
    let second: MetaCheck | null = null;
    for (const pageSize of first.ok ? [first.meta.pageSize] : PAGE_SIZES) {
      const check = parseMeta(await readAt(pageSize, pageSize), 1);
      if (check.ok && check.meta.pageSize !== pageSize) continue;
      if (check.ok || second === null) second = check;
      if (check.ok) break;
    }
    second ??= { ok: false, reason: `meta page 1 is not where its page size says` };
    const valid = [first, second].flatMap((c) => (c.ok ? [c.meta] : []));
    const reasons = [first, second].flatMap((c) => (c.ok ? [] : [c.reason]));
    if (valid.length === 0) {
      const noMagic = reasons.every((r) => r.includes('magic'));
      throw new SnapshotFormatError(
        `${noMagic ? 'not a bbolt database' : 'no valid meta page'}: ${reasons.join('; ')}`,
      );
    }
    if (valid.length === 2 && valid[0]!.pageSize !== valid[1]!.pageSize) {
      throw new SnapshotFormatError('meta pages disagree on the page size');
    }
    // bbolt's db.meta(): the higher txid wins if it validates, else the other one.
    return valid.reduce((a, b) => (b.txid > a.txid ? b : a));
  }

  /** Database bytes as bbolt counts them (tx.Size): high-water mark × page size. A snapshot file adds 32 after this. */
  get dbBytes(): number {
    return this.meta.pgid * this.meta.pageSize;
  }

  async close(): Promise<void> {
    this.blocks.clear();
    this.lastBlock = null;
    this.scratch = null;
    await this.fh.close();
  }

  /** The top-level buckets in key order. */
  async buckets(): Promise<BoltBucket[]> {
    const out: BoltBucket[] = [];
    let problem: string | null = null;
    await this.walk({ root: this.meta.root, inline: null }, 'root bucket', (key, value, flags) => {
      if (!(flags & BUCKET_LEAF)) problem ??= `the root bucket holds a plain key ${JSON.stringify(key.toString())}`;
      else out.push(this.bucketFrom(key, value));
    });
    if (problem) throw new SnapshotFormatError(`${problem}; bbolt only keeps buckets there`);
    return out;
  }

  /**
   * Every key/value of `bucket` in key order, like bbolt's Bucket.ForEach. `onLeafEnd` is called after the last entry
   * of each leaf page: until then the views given to `visit` for that page stay valid.
   */
  async forEachEntry(bucket: BoltBucket, visit: EntryVisitor, onLeafEnd?: () => void): Promise<void> {
    await this.walk(
      bucket,
      `bucket ${JSON.stringify(bucket.name.toString())}`,
      (key, value, flags) => visit(key, flags & BUCKET_LEAF ? null : value),
      onLeafEnd,
    );
  }

  private bucketFrom(name: Buffer, value: Buffer): BoltBucket {
    const where = `bucket ${JSON.stringify(name.toString())}`;
    if (value.length < BUCKET_HEADER)
      throw new SnapshotFormatError(`${where}: header is ${value.length} bytes, not 16`);
    const root = u64(value, 0);
    if (root === null) throw new SnapshotFormatError(`${where}: root page id beyond 2^53`);
    if (root !== 0) return { name: Buffer.from(name), root, inline: null };
    const inline = Buffer.from(value.subarray(BUCKET_HEADER));
    if (inline.length < PAGE_HEADER) throw new SnapshotFormatError(`${where}: inline page is ${inline.length} bytes`);
    return { name: Buffer.from(name), root: 0, inline };
  }

  /** Depth-first over the bucket's pages, so leaf elements come in key order; checks what bbolt's tx.Check checks. */
  private async walk(
    bucket: Pick<BoltBucket, 'root' | 'inline'>,
    where: string,
    visit: (key: Buffer, value: Buffer, flags: number) => void,
    onLeafEnd?: () => void,
  ): Promise<void> {
    // Block buffers are reused, which is only safe while a single walk uses them.
    if (this.walking) throw new Error('BoltReader: one walk at a time (await the previous one)');
    this.walking = true;
    this.previousLength = -1;
    try {
      await this.walkTree(bucket, where, visit, onLeafEnd);
    } finally {
      this.walking = false;
    }
  }

  /** Visits a leaf page's elements, checking they fit and come in key order (also across pages). */
  private leaf(
    page: Page,
    where: string,
    visit: (key: Buffer, value: Buffer, flags: number) => void,
    onLeafEnd: (() => void) | undefined,
  ): void {
    const { data, count, id } = page;
    const length = data.length;
    let previous: Buffer | null = this.previousLength < 0 ? null : this.previous.subarray(0, this.previousLength);
    let key: Buffer | null = null;
    for (let i = 0; i < count; i++) {
      const e = PAGE_HEADER + i * ELEMENT;
      const flags = data.readUInt32LE(e);
      const kStart = e + data.readUInt32LE(e + 4);
      const kEnd = kStart + data.readUInt32LE(e + 8);
      const vEnd = kEnd + data.readUInt32LE(e + 12);
      if (vEnd > length) {
        throw new SnapshotFormatError(`${where}: element ${i} of leaf page ${id} runs past the page end`);
      }
      key = data.subarray(kStart, kEnd);
      if (previous !== null && Buffer.compare(previous, key) >= 0) {
        throw new SnapshotFormatError(`${where}: keys out of order in leaf page ${id}`);
      }
      previous = key;
      visit(key, data.subarray(kEnd, vEnd), flags);
    }
    // The block under this page may be reused once we move on: keep our own copy of the last key.
    if (key !== null) {
      if (key.length > this.previous.length)
        this.previous = Buffer.allocUnsafe(Math.max(key.length, 2 * this.previous.length));
      key.copy(this.previous, 0);
      this.previousLength = key.length;
    }
    onLeafEnd?.();
  }

  private async walkTree(
    bucket: Pick<BoltBucket, 'root' | 'inline'>,
    where: string,
    visit: (key: Buffer, value: Buffer, flags: number) => void,
    onLeafEnd: (() => void) | undefined,
  ): Promise<void> {
    if (bucket.inline) {
      const page = this.pageAt(bucket.inline, 0, bucket.inline.length, where, -1);
      if (!(page.flags & LEAF_PAGE)) {
        throw new SnapshotFormatError(`${where}: inline page is ${describeFlags(page.flags)}, not a leaf`);
      }
      this.stats.inlineBuckets++;
      this.leaf(page, where, visit, onLeafEnd);
      return;
    }
    // One bit per page of the file: a page met twice in one tree is a cycle or a shared subtree, both corruption.
    const seen = new Uint8Array(Math.ceil(this.meta.pgid / 8));
    // Depth-first with an explicit stack of branch pages: their children and the next one to visit.
    const branchIds: number[] = [];
    const branchChildren: number[][] = [];
    const branchNext: number[] = [];
    const enter = (id: number, fromBranch: number): void => {
      const depth = branchIds.length;
      if (depth > MAX_DEPTH)
        throw new SnapshotFormatError(`${where}: tree deeper than ${MAX_DEPTH} levels at page ${id}`);
      const page = this.page(id, where, fromBranch);
      for (let p = id; p <= id + page.overflow; p++) {
        const byte = seen[p >> 3] ?? 0;
        if (byte & (1 << (p & 7))) throw new SnapshotFormatError(`${where}: page ${p} is referenced twice`);
        seen[p >> 3] = byte | (1 << (p & 7));
      }
      if (page.flags & LEAF_PAGE) {
        this.stats.leafPages++;
        this.stats.overflowPages += page.overflow;
        this.leaf(page, where, visit, onLeafEnd);
      } else if (page.flags & BRANCH_PAGE) {
        this.stats.branchPages++;
        this.stats.overflowPages += page.overflow;
        const children: number[] = new Array<number>(page.count);
        for (let i = 0; i < page.count; i++) {
          const child = u64(page.data, PAGE_HEADER + i * ELEMENT + 8);
          if (child === null) throw new SnapshotFormatError(`${where}: branch page ${id} points beyond 2^53`);
          children[i] = child;
        }
        branchIds.push(id);
        branchChildren.push(children);
        branchNext.push(0);
      } else {
        throw new SnapshotFormatError(
          `${where}: unexpected page type at page ${id} (from ${fromText(fromBranch)}): ${describeFlags(page.flags)}, expected branch or leaf`,
        );
      }
    };
    enter(bucket.root, -1);
    while (branchIds.length > 0) {
      const top = branchIds.length - 1;
      const children = branchChildren[top]!;
      const next = branchNext[top]!;
      if (next >= children.length) {
        branchIds.pop();
        branchChildren.pop();
        branchNext.pop();
        continue;
      }
      branchNext[top] = next + 1;
      enter(children[next]!, branchIds[top]!);
      if (this.sinceYield >= YIELD_EVERY_BYTES) {
        this.sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Page `id` with its overflow pages, through the block cache; `fromBranch` is -1 for a bucket's root. */
  private page(id: number, where: string, fromBranch: number): Page {
    const { pgid, pageSize } = this.meta;
    if (id < 2 || id >= pgid) {
      const from = fromText(fromBranch);
      throw new SnapshotFormatError(
        id < 2
          ? `${where}: ${from} points to meta page ${id}`
          : `${where}: ${from} points to page ${id}, beyond the high-water mark ${pgid}`,
      );
    }
    const offset = id * pageSize;
    const blockStart = offset - (offset % this.blockBytes);
    const block = this.block(blockStart);
    const within = offset - blockStart;
    const overflow = block.readUInt32LE(within + 12);
    const span = (overflow + 1) * pageSize;
    if (id + overflow >= pgid) {
      throw new SnapshotFormatError(
        `${where}: page ${id} (from ${fromText(fromBranch)}) overflows ${overflow} pages, beyond the high-water mark ${pgid}`,
      );
    }
    if (span > this.maxPageBytes) {
      throw new SnapshotFormatError(
        `${where}: page ${id} spans ${span} bytes, more than the ${this.maxPageBytes} this reader allows`,
      );
    }
    this.sinceYield += span;
    if (within + span <= block.length) return this.pageAt(block, within, span, where, id);
    // A page with overflow crossing the block's end (a large value): read it on its own into the scratch buffer.
    if (this.scratch === null || this.scratch.length < span) {
      this.scratch = Buffer.allocUnsafe(Math.min(this.maxPageBytes, Math.max(span, 2 * (this.scratch?.length ?? 0))));
    }
    const data = this.scratch.subarray(0, span);
    this.readFully(data, offset);
    return this.pageAt(data, 0, span, where, id);
  }

  /** The page at `buf[start…start+span)`; `expectedId` -1 for an inline page, which carries no id of its own. */
  private pageAt(buf: Buffer, start: number, span: number, where: string, expectedId: number): Page {
    const data = buf.subarray(start, start + span);
    if (data.length < PAGE_HEADER)
      throw new SnapshotFormatError(`${pageWhat(where, expectedId)}: shorter than a page header`);
    if (expectedId >= 0) {
      const id = u64(data, 0);
      if (id !== expectedId)
        throw new SnapshotFormatError(`${pageWhat(where, expectedId)}: its header says it is page ${id ?? '>2^53'}`);
    }
    const page: Page = {
      id: expectedId < 0 ? 0 : expectedId,
      flags: data.readUInt16LE(8),
      count: data.readUInt16LE(10),
      overflow: data.readUInt32LE(12),
      data,
    };
    if (PAGE_HEADER + page.count * ELEMENT > data.length) {
      throw new SnapshotFormatError(
        `${pageWhat(where, expectedId)}: ${page.count} elements do not fit in ${data.length} bytes`,
      );
    }
    // bbolt allocates exactly the pages a node needs and writes its keys and values in element order, so the last
    // element ends in the last page: anything else means the overflow count (or the element table) is damaged.
    if (page.overflow > 0 && page.flags & (LEAF_PAGE | BRANCH_PAGE)) {
      const last = PAGE_HEADER + (page.count - 1) * ELEMENT;
      const leaf = (page.flags & LEAF_PAGE) !== 0;
      const end =
        page.count === 0
          ? PAGE_HEADER
          : leaf
            ? last + data.readUInt32LE(last + 4) + data.readUInt32LE(last + 8) + data.readUInt32LE(last + 12)
            : last + data.readUInt32LE(last) + data.readUInt32LE(last + 4);
      if (end <= page.overflow * this.meta.pageSize || end > data.length) {
        throw new SnapshotFormatError(
          `${pageWhat(where, expectedId)}: claims ${page.overflow} overflow pages but its data ends at byte ${end}`,
        );
      }
    }
    return page;
  }

  /** The aligned block at `start`, read once and kept while it is among the most recently used. */
  private block(start: number): Buffer {
    if (start === this.lastStart && this.lastBlock !== null) return this.lastBlock;
    let data = this.blocks.get(start);
    if (data !== undefined) {
      this.blocks.delete(start); // re-insert: Map order is the LRU order
      this.blocks.set(start, data);
    } else {
      const length = Math.min(this.blockBytes, this.dbBytes - start);
      let reuse: Buffer | undefined;
      if (this.blocks.size >= this.cachedBlocks) {
        const [oldest] = this.blocks;
        if (oldest) {
          this.blocks.delete(oldest[0]);
          // Reuse its memory rather than leave it to the GC. Views into it given to visitors were only valid until
          // the end of their leaf page, which has passed.
          if (oldest[1].length === this.blockBytes) reuse = oldest[1];
        }
      }
      data = length === this.blockBytes && reuse !== undefined ? reuse : Buffer.allocUnsafe(length);
      try {
        this.readFully(data, start);
      } catch (err) {
        this.lastStart = -1;
        this.lastBlock = null;
        throw err;
      }
      this.blocks.set(start, data);
    }
    this.lastStart = start;
    this.lastBlock = data;
    return data;
  }

  private readFully(into: Buffer, position: number): void {
    let done = 0;
    while (done < into.length) {
      const bytesRead = readSync(this.fh.fd, into, done, into.length - done, position + done);
      if (bytesRead === 0) {
        throw new SnapshotFormatError(`truncated: the file ends at byte ${position + done}, inside the database`);
      }
      done += bytesRead;
    }
  }
}

/** How errors name a page: `expectedId` -1 for an inline one. Built only for an error (not per page read). */
function pageWhat(where: string, expectedId: number): string {
  return expectedId < 0 ? `${where} (inline)` : `${where}: page ${expectedId}`;
}

function fromText(fromBranch: number): string {
  return fromBranch < 0 ? 'its header' : `branch page ${fromBranch}`;
}
