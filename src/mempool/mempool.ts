// Mempools: fixed-size objects in the shared EAL region (DPDK's rte_mempool), with a per-lcore cache in front of
// a multi-producer/multi-consumer ring of free objects.
//
// An object is named by a handle: the u32 index of its first byte in the region (byte offset / 4). Handles mean
// the same object on every lcore. Each object's IOVA is computed once, at creation. An object that fits a page
// never straddles one, in both IOVA modes (DPDK's mempool does the same): in PA mode that keeps every object
// IOVA-contiguous; in VA mode the IOVA range is contiguous anyway, but an emulated device may need more: QEMU's
// e1000e and igb map each TX buffer whole and drop the frame (uncounted) when, behind a vIOMMU, it spans two
// guest-physical pages that are not adjacent.
//
// Memory of a pool (one memzone "MP_<name>"): header (256 B), per-lcore caches, the free ring, the objects.
import { isMainThread } from 'node:worker_threads';
import { mem, memzoneReserve, memzoneLookup, memzoneFree, memzoneList, onMemoryRelease, CTL, type Region } from '../eal/memory.js';
import { lcoreId, MAX_LCORES } from '../eal/lcore.js';
import { Ring, ringInitAt, ringMemSize } from '../ring/ring.js';
import { copyU32 } from '../eal/copy.js';

export class MempoolError extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'MempoolError';
  }
}

const MAGIC = 0x4d504f4c; // "MPOL"
// header words
const H_MAGIC = 0;
const H_ID = 1;
const H_N = 2;
const H_ELT = 3; // element size in bytes (multiple of 64)
const H_CACHE = 4; // cache size
const H_CACHE_CAP = 5; // slots per cache (1.5 x size, rounded)
const H_RING = 6; // byte offset of the ring
const H_CACHES = 7; // byte offset of the caches
const H_OBJS = 8; // byte offset of the object table (u32 handles in creation order)
const H_PRIV = 9; // private size of a pktmbuf pool (0 otherwise)
const H_ROOM = 10; // data room of a pktmbuf pool (0 otherwise)
const H_FLAGS = 11;
const H_NAME = 16; // 32 bytes of name
const HDR_BYTES = 256;
const CACHE_HDR_WORDS = 16; // len + padding: one cache line

export const MEMPOOL_CACHE_MAX_SIZE = 512;
export const MEMPOOL_F_PKTMBUF = 1;

/** Pools of this thread by id (handle -> pool lookups on free). */
const byId: Array<Mempool | undefined> = [];
let nextId = 1;
// pools of an earlier EAL init view memory that is gone
onMemoryRelease(() => {
  byId.length = 0;
});

function poolName(u8: Uint8Array, at: number): string {
  let s = '';
  for (let i = 0; i < 32 && u8[at + i] !== 0; i++) s += String.fromCharCode(u8[at + i]);
  return s;
}

export interface MempoolCreateOptions {
  /** bytes of each object; rounded up to a cache line */
  eltSize: number;
  cacheSize?: number;
  flags?: number;
  /** called once per object after it is placed (byte offset, index) */
  objInit?: (byteOff: number, index: number) => void;
  privSize?: number;
  dataRoom?: number;
}

export class Mempool {
  readonly name: string;
  readonly id: number;
  readonly size: number;
  readonly eltSize: number;
  readonly cacheSize: number;
  readonly privSize: number;
  readonly dataRoom: number;
  readonly flags: number;
  readonly ring: Ring;
  /** byte offset of the pool's memzone */
  readonly off: number;
  /** @internal the region's words; drivers with fused alloc/free loops use the cache fields below */
  readonly u32: Uint32Array;
  /** @internal */
  readonly u16: Uint16Array;
  /** @internal u32 index of this lcore's cache length word, or -1 off-lcore */
  readonly cacheLen: number;
  /** @internal u32 index of this lcore's first cache slot */
  readonly cacheObjs: number;
  /** @internal slots in a cache */
  readonly cacheCap: number;
  private readonly objTable: number;

  /** Views an existing pool at byte offset `off` (any lcore). Use mempoolCreate / mempoolLookup. */
  constructor(off: number, region: Region = mem()) {
    const w = off >> 2;
    const u32 = region.u32;
    if (u32[w + H_MAGIC] !== MAGIC) throw new MempoolError(`no mempool at offset ${off}`);
    this.off = off;
    this.u32 = u32;
    this.u16 = region.u16;
    this.name = poolName(region.u8, off + H_NAME * 4);
    this.id = u32[w + H_ID];
    this.size = u32[w + H_N];
    this.eltSize = u32[w + H_ELT];
    this.cacheSize = u32[w + H_CACHE];
    this.cacheCap = u32[w + H_CACHE_CAP];
    this.privSize = u32[w + H_PRIV];
    this.dataRoom = u32[w + H_ROOM];
    this.flags = u32[w + H_FLAGS];
    this.ring = new Ring(`mp:${this.name}`, u32[w + H_RING], region);
    this.objTable = u32[w + H_OBJS] >> 2;
    const lc = lcoreId();
    if (this.cacheSize > 0 && lc >= 0 && lc < MAX_LCORES) {
      const c = (u32[w + H_CACHES] >> 2) + lc * (CACHE_HDR_WORDS + this.cacheCap);
      this.cacheLen = c;
      this.cacheObjs = c + CACHE_HDR_WORDS;
    } else {
      this.cacheLen = -1;
      this.cacheObjs = -1;
    }
    byId[this.id] = this;
  }

  /**
   * Takes up to n objects into objs[from..]; returns how many (fewer only when the pool runs dry).
   * Served from this lcore's cache, refilled from the ring in one burst.
   */
  getBurst(objs: Uint32Array, n: number, from = 0): number {
    const cl = this.cacheLen;
    if (cl < 0 || n > this.cacheCap) return this.ring.dequeueBurst(objs, n, from);
    const u32 = this.u32;
    let len = u32[cl];
    const co = this.cacheObjs;
    if (len < n) {
      // refill up to cacheSize beyond the request
      let want = this.cacheSize + n - len;
      if (len + want > this.cacheCap) want = this.cacheCap - len;
      len += this.ring.dequeueBurst(u32, want, co + len);
      if (len < n) n = len;
    }
    len -= n;
    copyU32(objs, from, u32, co + len, n);
    u32[cl] = len;
    return n;
  }

  /** Takes exactly n objects or none (rte_mempool_get_bulk). Returns true on success. */
  getBulk(objs: Uint32Array, n: number, from = 0): boolean {
    const got = this.getBurst(objs, n, from);
    if (got === n) return true;
    if (got > 0) this.putBulk(objs, got, from);
    return false;
  }

  /** Returns n objects from objs[from..] to the pool. */
  putBulk(objs: Uint32Array, n: number, from = 0): void {
    const cl = this.cacheLen;
    if (cl < 0 || n > this.cacheCap) {
      this.ring.enqueueBurst(objs, n, from);
      return;
    }
    const u32 = this.u32;
    let len = u32[cl];
    const co = this.cacheObjs;
    if (len + n > this.cacheCap) {
      // flush down to cacheSize, oldest first, in one ring burst
      const out = len - this.cacheSize > 0 ? len - this.cacheSize : 0;
      this.ring.enqueueBurst(u32, out, co);
      u32.copyWithin(co, co + out, co + len);
      len -= out;
      if (len + n > this.cacheCap) {
        this.ring.enqueueBurst(objs, n, from);
        u32[cl] = len;
        return;
      }
    }
    copyU32(u32, co + len, objs, from, n);
    u32[cl] = len + n;
  }

  /**
   * @internal Refills this lcore's cache so it holds at least `need` objects if the ring has them.
   * Returns the new cache length.
   */
  cacheRefill(need: number): number {
    const u32 = this.u32;
    let len = u32[this.cacheLen];
    let want = this.cacheSize + need - len;
    if (len + want > this.cacheCap) want = this.cacheCap - len;
    len += this.ring.dequeueBurst(u32, want, this.cacheObjs + len);
    u32[this.cacheLen] = len;
    return len;
  }

  /** @internal Makes room for `room` more objects in this lcore's cache; returns the new cache length. */
  cacheMakeRoom(room: number): number {
    const u32 = this.u32;
    let len = u32[this.cacheLen];
    if (len + room <= this.cacheCap) return len;
    const out = len > this.cacheSize ? len - this.cacheSize : len;
    const co = this.cacheObjs;
    const done = this.ring.enqueueBurst(u32, out, co);
    u32.copyWithin(co, co + done, co + len);
    len -= done;
    u32[this.cacheLen] = len;
    return len;
  }

  /** One object, or -1 when the pool is empty. */
  get(): number {
    return this.getBurst(one, 1, 0) === 1 ? one[0] : -1;
  }

  put(obj: number): void {
    one[0] = obj;
    this.putBulk(one, 1, 0);
  }

  /** Objects in the ring and in every lcore cache (rte_mempool_avail_count). */
  availCount(): number {
    let n = this.ring.count();
    if (this.cacheSize > 0) {
      const w = this.off >> 2;
      const c0 = this.u32[w + H_CACHES] >> 2;
      for (let l = 0; l < MAX_LCORES; l++) n += this.u32[c0 + l * (CACHE_HDR_WORDS + this.cacheCap)];
    }
    return n;
  }

  /** Objects taken out of the pool (rte_mempool_in_use_count). */
  inUseCount(): number {
    return this.size - this.availCount();
  }

  full(): boolean {
    return this.availCount() === this.size;
  }

  /** Handle of the i-th object in creation order. */
  objAt(i: number): number {
    return this.u32[this.objTable + i];
  }

  /** Calls fn for every object (rte_mempool_obj_iter). */
  objIter(fn: (handle: number, index: number) => void): void {
    for (let i = 0; i < this.size; i++) fn(this.u32[this.objTable + i], i);
  }

  /** Moves this lcore's cached objects back to the ring (e.g. before an lcore stops). */
  cacheFlush(): void {
    const cl = this.cacheLen;
    if (cl < 0) return;
    const len = this.u32[cl];
    this.ring.enqueueBurst(this.u32, len, this.cacheObjs);
    this.u32[cl] = 0;
  }
}

const one = new Uint32Array(1);
const PREFIX = 'MP_';

/**
 * Creates a pool of n objects (main lcore). Objects are cache-line aligned; none that fits a page straddles one.
 * Returns the pool as seen from the main lcore.
 */
export function mempoolCreate(name: string, n: number, o: MempoolCreateOptions): Mempool {
  if (!isMainThread) throw new MempoolError('mempoolCreate runs on the main lcore only');
  if (!/^[\x21-\x7e]{1,31}$/.test(name)) throw new MempoolError(`bad mempool name '${name}': 1 to 31 printable ASCII characters`);
  if (memzoneLookup(PREFIX + name)) throw new MempoolError(`mempool '${name}' already exists`);
  if (!Number.isInteger(n) || n < 1 || n > 0x3fffffff) throw new MempoolError(`bad mempool size ${n}`);
  const cacheSize = o.cacheSize ?? 0;
  if (!Number.isInteger(cacheSize) || cacheSize < 0 || cacheSize > MEMPOOL_CACHE_MAX_SIZE || cacheSize * 1.5 > n) {
    throw new MempoolError(`bad cache size ${cacheSize}: 0 to ${MEMPOOL_CACHE_MAX_SIZE}, and at most n / 1.5 (n = ${n})`);
  }
  const r = mem();
  const elt = Math.ceil(o.eltSize / 64) * 64;
  if (r.iovaPa && elt > r.pageSize) throw new MempoolError(`objects of ${elt} bytes do not fit a ${r.pageSize}-byte page in PA mode`);
  const cacheCap = cacheSize === 0 ? 0 : Math.ceil((cacheSize * 1.5) / 16) * 16 + 32;
  const cachesBytes = cacheSize === 0 ? 0 : MAX_LCORES * (CACHE_HDR_WORDS + cacheCap) * 4;
  const ringCount = 2 ** Math.ceil(Math.log2(n + 1));
  const ringBytes = ringMemSize(ringCount, 0);
  const tableBytes = Math.ceil((n * 4) / 64) * 64;
  const metaBytes = Math.ceil((HDR_BYTES + cachesBytes + ringBytes + tableBytes) / 64) * 64;
  // objects: where one would straddle a page, the rest of that page is skipped (less than one object), at most
  // once per page the objects touch: n / perPage full pages and a first partial one
  const perPage = Math.floor(r.pageSize / elt);
  const pages = perPage === 0 ? 0 : Math.ceil(n / perPage) + 1;
  const total = metaBytes + (perPage === 0 ? n * elt : Math.min(n * elt + pages * elt, pages * r.pageSize));
  let mz;
  try {
    mz = memzoneReserve(PREFIX + name, total, { align: 64 });
  } catch (e) {
    throw new MempoolError(`cannot create mempool '${name}' (${n} x ${elt} bytes): ${(e as Error).message}`);
  }
  const w = mz.off >> 2;
  const u32 = r.u32;
  const id = nextId++;
  u32[w + H_ID] = id;
  u32[w + H_N] = n;
  u32[w + H_ELT] = elt;
  u32[w + H_CACHE] = cacheSize;
  u32[w + H_CACHE_CAP] = cacheCap;
  u32[w + H_CACHES] = mz.off + HDR_BYTES;
  u32[w + H_RING] = mz.off + HDR_BYTES + cachesBytes;
  u32[w + H_OBJS] = mz.off + HDR_BYTES + cachesBytes + ringBytes;
  u32[w + H_PRIV] = o.privSize ?? 0;
  u32[w + H_ROOM] = o.dataRoom ?? 0;
  u32[w + H_FLAGS] = o.flags ?? 0;
  for (let i = 0; i < name.length; i++) r.u8[mz.off + H_NAME * 4 + i] = name.charCodeAt(i);
  ringInitAt(r, u32[w + H_RING], ringCount, 0);
  const table = u32[w + H_OBJS] >> 2;
  let at = mz.off + metaBytes;
  for (let i = 0; i < n; i++) {
    if (perPage !== 0 && Math.floor(at / r.pageSize) !== Math.floor((at + elt - 1) / r.pageSize)) {
      at = Math.ceil(at / r.pageSize) * r.pageSize;
    }
    u32[table + i] = at >>> 2;
    o.objInit?.(at, i);
    at += elt;
  }
  u32[w + H_MAGIC] = MAGIC;
  const pool = new Mempool(mz.off, r);
  // fill the ring in creation order
  const ringObjs = u32.subarray(table, table + n);
  pool.ring.enqueueBulk(ringObjs, n);
  return pool;
}

/** Finds a pool by name on any lcore; null if there is none. */
export function mempoolLookup(name: string): Mempool | null {
  for (const p of byId) if (p && p.name === name) return p;
  const mz = memzoneLookup(PREFIX + name);
  return mz ? new Mempool(mz.off) : null;
}

/** The pool with this id, as seen from this thread (attached on first use). */
export function mempoolById(id: number): Mempool {
  const p = byId[id];
  if (p !== undefined) return p;
  return attachById(id);
}

function attachById(id: number): Mempool {
  // slow path, once per pool and thread: look through the memzone table
  const r = mem();
  for (let at = CTL.MEMZONES; at < CTL.PAGE_IOVA; at += 64) {
    // memzone names starting with MP_
    if (r.u8[at] === 0x4d && r.u8[at + 1] === 0x50 && r.u8[at + 2] === 0x5f) {
      const off = r.u32[(at + 44) >> 2];
      if (r.u32[(off >> 2) + H_ID] === id && r.u32[(off >> 2) + H_MAGIC] === MAGIC) return new Mempool(off, r);
    }
  }
  throw new MempoolError(`no mempool with id ${id}`);
}

/** Frees a pool's memory (main lcore). Objects still in use become invalid. */
export function mempoolFree(pool: Mempool): void {
  mem().u32[(pool.off >> 2) + H_MAGIC] = 0;
  byId[pool.id] = undefined;
  memzoneFree(PREFIX + pool.name);
}

export function mempoolList(): string[] {
  return memzoneList().filter((z) => z.name.startsWith(PREFIX)).map((z) => z.name.slice(PREFIX.length));
}
