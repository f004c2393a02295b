// EAL memory: one VA-contiguous region (hugetlbfs pages, or anonymous memory with --no-huge) shared by every lcore.
//
// Every thread views the region with its own koffi.view (zero-copy ArrayBuffer over the same address), so an offset
// into the region ("heap offset") names the same byte on every lcore. Mbufs, rings, mempools and descriptor rings
// all live here and are referred to by offset; nothing on the data path needs a native pointer or a BigInt.
//
// Layout of the region: a control area (header, lcore words, memzone table, per-page IOVA table), then the heap
// that memzones are carved from. Memzones are reserved on the main lcore only and found by name on any lcore.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import * as ffi from './ffi.js';
import { log } from './log.js';

export type IovaModeName = 'pa' | 'va';

const MAGIC = 0x504b5449; // "PKTI"
/** Byte offsets inside the control area. */
export const CTL = {
  MAGIC: 0,
  LEN_MB: 4,
  IOVA_PA: 8,
  PAGE_SHIFT: 12,
  HUGE: 16,
  QUIT: 64, // i32: set when the application asked every lcore to stop
  CLOCK_US: 128, // i32: coarse monotonic clock in microseconds (wrapping), ticked by the main lcore
  LCORES: 256, // 128 lcores x 64 bytes
  MEMZONES: 8448, // MZ_MAX x 64 bytes
  PAGE_IOVA: 8448 + 512 * 64, // f64 per page
  END: 8448 + 512 * 64 + 4096 * 8,
} as const;
const MZ_MAX = 512;
const MZ_NAME_LEN = 44;
const MAX_PAGES = 4096;

export interface MemSeg {
  /** virtual address of the segment */
  va: bigint;
  /** IOVA of its first byte; the segment is IOVA-contiguous */
  iova: bigint;
  len: number;
  /** offset of the segment inside the EAL region */
  off: number;
}

export interface Memzone {
  name: string;
  /** byte offset in the EAL region */
  off: number;
  len: number;
  /** IOVA of the first byte (Number: IOVAs and addresses stay below 2^53) */
  iova: number;
  /** virtual address (control path only) */
  va: bigint;
}

export class MemoryError extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'MemoryError';
  }
}

/**
 * The EAL region as seen from this thread. Typed arrays over the same bytes with every element size.
 * Created once per thread by initMemory (main lcore) or attachMemory (worker lcores).
 */
export class Region {
  readonly base: bigint;
  readonly baseNum: number;
  /** bytes of EAL memory (the heap ends here) */
  readonly len: number;
  readonly buf: ArrayBuffer;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly pageShift: number;
  readonly iovaPa: boolean;
  readonly hugepages: boolean;

  /** bytes the views cover: the memory, then the window for external memory (extmemMap) */
  readonly viewLen: number;

  constructor(base: bigint, viewLen: number) {
    this.base = base;
    this.baseNum = Number(base);
    this.viewLen = viewLen;
    this.buf = ffi.view(base, viewLen);
    this.u8 = new Uint8Array(this.buf);
    this.u16 = new Uint16Array(this.buf);
    this.u32 = new Uint32Array(this.buf);
    this.i32 = new Int32Array(this.buf);
    this.f64 = new Float64Array(this.buf);
    if (this.u32[CTL.MAGIC >> 2] !== MAGIC && this.u32[CTL.MAGIC >> 2] !== 0) throw new MemoryError('EAL region header is corrupt');
    this.len = this.u32[CTL.LEN_MB >> 2] * 1048576 || viewLen;
    this.pageShift = this.u32[CTL.PAGE_SHIFT >> 2];
    this.iovaPa = this.u32[CTL.IOVA_PA >> 2] === 1;
    this.hugepages = this.u32[CTL.HUGE >> 2] === 1;
  }

  /** IOVA of a byte of the region. */
  iova(off: number): number {
    if (!this.iovaPa) return this.baseNum + off;
    const page = off >>> this.pageShift;
    return this.f64[(CTL.PAGE_IOVA >> 3) + page] + (off - page * 2 ** this.pageShift);
  }

  va(off: number): bigint {
    return this.base + BigInt(off);
  }

  get pageSize(): number {
    return 2 ** this.pageShift;
  }
}

let region: Region | null = null;
/** What this thread attached: base, length (to hand to new workers). */
let mapping: { base: bigint; len: number; ownMapping: boolean } | null = null;

export function mem(): Region {
  if (region === null) throw new MemoryError('EAL memory is not initialised: call eal.init() first');
  return region;
}

export function memAttached(): boolean {
  return region !== null;
}

export function memShareInfo(): { base: bigint; len: number } {
  if (!mapping) throw new MemoryError('EAL memory is not initialised');
  return { base: mapping.base, len: mapping.len };
}

// ---------------------------------------------------------------------------------------------------------------
// Hugepage discovery

export interface HugeMount {
  dir: string;
  pageSize: number;
}

export function meminfoHugepageSize(procRoot = '/proc'): number {
  try {
    const m = /Hugepagesize:\s+(\d+) kB/.exec(fs.readFileSync(`${procRoot}/meminfo`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 2 * 1024 * 1024;
  } catch {
    return 2 * 1024 * 1024;
  }
}

function parseSize(s: string): number {
  const m = /^(\d+)([kKmMgG]?)/.exec(s);
  if (!m) return 0;
  const mul = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()] ?? 1;
  return Number(m[1]) * mul;
}

/** hugetlbfs mounts from /proc/mounts with their page size. */
export function hugetlbfsMounts(procRoot = '/proc'): HugeMount[] {
  let text = '';
  try {
    text = fs.readFileSync(`${procRoot}/mounts`, 'utf8');
  } catch {
    return [];
  }
  const def = meminfoHugepageSize(procRoot);
  const out: HugeMount[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f[2] !== 'hugetlbfs') continue;
    const opt = f[3].split(',').find((o) => o.startsWith('pagesize='));
    out.push({ dir: f[1].replace(/\\040/g, ' '), pageSize: opt ? parseSize(opt.slice(9)) : def });
  }
  return out;
}

/** Free (unreserved) hugepages of a size, from sysfs. */
export function freeHugepages(pageSize: number, sysRoot = '/sys'): { total: number; free: number } {
  const d = `${sysRoot}/kernel/mm/hugepages/hugepages-${pageSize / 1024}kB`;
  const rd = (f: string) => {
    try {
      return Number(fs.readFileSync(`${d}/${f}`, 'utf8').trim());
    } catch {
      return 0;
    }
  };
  return { total: rd('nr_hugepages'), free: Math.max(0, rd('free_hugepages') - rd('resv_hugepages')) };
}

function fixHint(pages: number, pageSize: number): string {
  const mb = pageSize / 1048576;
  return `reserve them with 'npx pktio-hugepages --setup ${pages * mb}M' ` +
    `(or: echo ${pages} > /sys/kernel/mm/hugepages/hugepages-${pageSize / 1024}kB/nr_hugepages; ` +
    `mkdir -p /dev/hugepages && mount -t hugetlbfs -o pagesize=${mb}M nodev /dev/hugepages), ` +
    `ask for less memory with -m, or run with --no-huge`;
}

// ---------------------------------------------------------------------------------------------------------------
// Physical addresses

let pagemapFd = -1;
const pmBuf = new BigUint64Array(1);

/** Physical address of a virtual address via /proc/self/pagemap (needs CAP_SYS_ADMIN to see PFNs). */
export function virt2phys(va: bigint): bigint {
  if (pagemapFd < 0) pagemapFd = ffi.check(ffi.open('/proc/self/pagemap', ffi.O_RDONLY | ffi.O_CLOEXEC, 0), 'open /proc/self/pagemap');
  const n = ffi.pread(pagemapFd, pmBuf, 8, (va >> 12n) * 8n);
  if (n !== 8) throw new ffi.SysError('read /proc/self/pagemap', ffi.errno());
  const e = pmBuf[0];
  if (((e >> 63n) & 1n) === 0n) throw new MemoryError(`page at 0x${va.toString(16)} is not present`);
  const pfn = e & ((1n << 55n) - 1n);
  if (pfn === 0n) {
    throw new MemoryError('cannot read physical addresses from /proc/self/pagemap (PFNs read as 0): ' +
      'IOVA as PA needs root (CAP_SYS_ADMIN); run as root or use --iova-mode va');
  }
  return (pfn << 12n) | (va & 0xfffn);
}

// ---------------------------------------------------------------------------------------------------------------
// Init on the main lcore

export interface MemoryOptions {
  noHuge: boolean;
  hugeDir: string | null;
  memoryMb: number | null;
  iovaMode: IovaModeName;
  filePrefix: string;
  /** map at exactly this address (MAP_FIXED_NOREPLACE); an error if it is taken */
  baseVirtaddr?: bigint | null;
  procRoot?: string;
  sysRoot?: string;
}

const MAX_REGION = 4096 * 1048576;
/** Address space kept after the memory for external memory (extmemMap): reserved, costs nothing until mapped. */
const EXT_WINDOW = 1024 * 1048576;

function extWindow(len: number): number {
  return Math.max(0, Math.min(EXT_WINDOW, MAX_REGION - len));
}

/**
 * Reserves the address space of the region and its external-memory window in one piece (PROT_NONE, no memory), so
 * that the memory and everything extmemMap() maps later sit at offsets of one view. Aligned to `align` for
 * hugepages; at exactly `want` when given.
 */
function reserveVa(want: bigint | null, len: number, at: string, align = 4096): bigint {
  const total = len + extWindow(len);
  const flags = ffi.MAP_PRIVATE | ffi.MAP_ANONYMOUS | ffi.MAP_NORESERVE;
  if (want) {
    return ffi.mmapChecked(want, total, ffi.PROT_NONE, flags | ffi.MAP_FIXED_NOREPLACE, -1, 0,
      `reserve ${total >> 20} MiB of address space${at}`, 'choose another --base-virtaddr');
  }
  const raw = ffi.mmapChecked(null, total + align, ffi.PROT_NONE, flags, -1, 0, `reserve ${total >> 20} MiB of address space`,
    'ask for less memory with -m');
  const a = BigInt(align);
  const base = (raw + a - 1n) & ~(a - 1n);
  if (base > raw) ffi.munmap(raw, base - raw);
  const tail = raw + BigInt(total + align) - (base + BigInt(total));
  if (tail > 0n) ffi.munmap(base + BigInt(total), tail);
  return base;
}

/** Heap allocator state (main lcore only): sorted free blocks [off, len]. */
let freeList: Array<[number, number]> = [];
/** Free blocks of the external-memory window (main lcore only), and what is mapped there. */
let extFree: Array<[number, number]> = [];
const extmems = new Map<string, ExtMem>();
const zones = new Map<string, { slot: number; off: number; len: number }>();

export function initMemory(o: MemoryOptions): Region {
  if (region) throw new MemoryError('EAL memory is already initialised');
  const lg = log('eal.mem');
  const wantMb = o.memoryMb ?? 256;
  const at = o.baseVirtaddr ? ` at 0x${o.baseVirtaddr.toString(16)}` : '';
  let base: bigint;
  let len: number;
  let pageSize: number;
  if (o.noHuge) {
    if (o.iovaMode === 'pa') throw new MemoryError('--no-huge gives IOVA = VA only: drop --iova-mode pa or use hugepages');
    pageSize = 4096;
    len = wantMb * 1048576;
    if (len > MAX_REGION) throw new MemoryError('pktio maps at most 4096 MiB: use a smaller -m');
    base = reserveVa(o.baseVirtaddr ?? null, len, at);
    try {
      ffi.mmapChecked(base, len, ffi.PROT_READ | ffi.PROT_WRITE,
        ffi.MAP_SHARED | ffi.MAP_ANONYMOUS | ffi.MAP_POPULATE | ffi.MAP_FIXED, -1, 0, `mmap ${wantMb} MiB of anonymous memory${at}`,
        'ask for less memory with -m');
    } catch (e) {
      ffi.munmap(base, len + extWindow(len));
      throw e;
    }
    lg.info({ mb: wantMb }, 'no hugepages: using anonymous memory, IOVA = VA');
  } else {
    const mounts = hugetlbfsMounts(o.procRoot);
    let mount: HugeMount | undefined;
    if (o.hugeDir !== null) {
      const dir = path.resolve(o.hugeDir);
      mount = mounts.find((m) => m.dir === dir);
      if (!mount) {
        throw new MemoryError(`--huge-dir ${o.hugeDir} is not a hugetlbfs mount` +
          (mounts.length ? ` (mounts: ${mounts.map((m) => m.dir).join(', ')})` : '') +
          `: mount one with 'mkdir -p ${dir} && mount -t hugetlbfs nodev ${dir}' or 'npx pktio-hugepages --setup 256M --mount ${dir}'`);
      }
    } else {
      mount = mounts.find((m) => m.pageSize === 2 * 1048576) ?? mounts[0];
      if (!mount) {
        throw new MemoryError('no hugetlbfs mount found: ' + fixHint(Math.ceil(wantMb / 2), 2 * 1048576));
      }
    }
    pageSize = mount.pageSize;
    const pages = Math.ceil((wantMb * 1048576) / pageSize);
    len = pages * pageSize;
    const { free, total } = freeHugepages(pageSize, o.sysRoot);
    if (free < pages) {
      throw new MemoryError(`not enough hugepages: ${pages} pages of ${pageSize / 1048576} MiB needed for -m ${wantMb}, ` +
        `${free} free of ${total}: ` + fixHint(pages + (total - free), pageSize));
    }
    const file = path.join(mount.dir, `${o.filePrefix}map_${process.pid}`);
    const fd = ffi.open(file, ffi.O_RDWR | ffi.O_CREAT | ffi.O_EXCL | ffi.O_CLOEXEC, 0o600);
    if (fd < 0) {
      const e = ffi.errno();
      throw new ffi.SysError(`create ${file}`, e, e === ffi.EEXIST ? 'another process uses this --file-prefix' :
        e === ffi.EACCES ? 'run as root or make the hugetlbfs mount writable' : undefined);
    }
    try {
      ffi.check(ffi.ftruncate(fd, len), `ftruncate ${file} to ${len} bytes`);
      if (len > MAX_REGION) throw new MemoryError('pktio maps at most 4096 MiB: use a smaller -m');
      base = reserveVa(o.baseVirtaddr ?? null, len, at, pageSize);
      try {
        ffi.mmapChecked(base, len, ffi.PROT_READ | ffi.PROT_WRITE, ffi.MAP_SHARED | ffi.MAP_POPULATE | ffi.MAP_FIXED,
          fd, 0, `mmap ${pages} hugepages${at}`, fixHint(pages, pageSize));
      } catch (e) {
        ffi.munmap(base, len + extWindow(len));
        throw e;
      }
    } finally {
      // unlinked at once: the pages go back to the pool when the process exits, however it exits
      ffi.unlink(file);
      ffi.close(fd);
    }
    lg.info({ dir: mount.dir, pages, pageMb: pageSize / 1048576, iova: o.iovaMode }, 'hugepage memory mapped');
  }
  const pageShift = Math.log2(pageSize);
  const npages = len / pageSize;
  if (o.iovaMode === 'pa' && npages > MAX_PAGES) throw new MemoryError(`at most ${MAX_PAGES} pages in PA mode: use a smaller -m`);
  // header
  const u32 = new Uint32Array(ffi.view(base, CTL.END));
  const f64 = new Float64Array(u32.buffer);
  u32.fill(0);
  u32[CTL.LEN_MB >> 2] = len / 1048576;
  u32[CTL.IOVA_PA >> 2] = o.iovaMode === 'pa' ? 1 : 0;
  u32[CTL.PAGE_SHIFT >> 2] = pageShift;
  u32[CTL.HUGE >> 2] = o.noHuge ? 0 : 1;
  if (o.iovaMode === 'pa') {
    for (let p = 0; p < npages; p++) {
      f64[(CTL.PAGE_IOVA >> 3) + p] = Number(virt2phys(base + BigInt(p * pageSize)));
    }
  }
  u32[CTL.MAGIC >> 2] = MAGIC;
  region = new Region(base, len + extWindow(len));
  mapping = { base, len: region.viewLen, ownMapping: true };
  extFree = [[len, extWindow(len)]];
  extmems.clear();
  const heapStart = Math.ceil(CTL.END / 4096) * 4096;
  freeList = [[heapStart, len - heapStart]];
  zones.clear();
  return region;
}

/** Worker lcores: view the main lcore's region. */
export function attachMemory(base: bigint, len: number): Region {
  if (region) return region;
  region = new Region(base, len);
  mapping = { base, len, ownMapping: false };
  return region;
}

const releaseHooks: Array<() => void> = [];

/** Registers a function that forgets per-thread state tied to the region (pool tables, cached views). */
export function onMemoryRelease(fn: () => void): void {
  releaseHooks.push(fn);
}

/** Unmaps the region (main lcore, at cleanup, after every worker has stopped). */
export function releaseMemory(): void {
  if (!mapping) return;
  for (const fn of releaseHooks) fn();
  if (mapping.ownMapping) ffi.munmap(mapping.base, mapping.len);
  region = null;
  mapping = null;
  freeList = [];
  zones.clear();
  extFree = [];
  extmems.clear();
}

/** IOVA-contiguous segments of the region, for DMA mapping (VFIO type1/iommufd map VA -> IOVA = VA). */
export function memsegs(): MemSeg[] {
  const r = mem();
  if (!r.iovaPa) return [{ va: r.base, iova: r.base, len: r.len, off: 0 }];
  const out: MemSeg[] = [];
  const ps = r.pageSize;
  for (let off = 0; off < r.len; off += ps) {
    const iova = BigInt(r.iova(off));
    const last = out[out.length - 1];
    if (last && last.iova + BigInt(last.len) === iova) last.len += ps;
    else out.push({ va: r.va(off), iova, len: ps, off });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Memzones

export interface ReserveOptions {
  /** alignment in bytes (power of two, default 64) */
  align?: number;
  /** the zone must be IOVA-contiguous (descriptor rings): in PA mode it may not cross a page */
  contig?: boolean;
  /** do not let the zone cross a multiple of this many bytes (power of two) */
  bound?: number;
}

function requireMain(what: string): void {
  if (!isMainThread) throw new MemoryError(`${what} runs on the main lcore only`);
}

function alloc(len: number, align: number, bound: number, list = freeList): number {
  const freeList = list;
  for (let i = 0; i < freeList.length; i++) {
    const [fo, fl] = freeList[i];
    let o = Math.ceil(fo / align) * align;
    if (bound > 0 && Math.floor(o / bound) !== Math.floor((o + len - 1) / bound)) o = Math.ceil(o / bound) * bound;
    if (o + len > fo + fl) continue;
    const parts: Array<[number, number]> = [];
    if (o > fo) parts.push([fo, o - fo]);
    if (o + len < fo + fl) parts.push([o + len, fo + fl - (o + len)]);
    freeList.splice(i, 1, ...parts);
    return o;
  }
  return -1;
}

function release(off: number, len: number, list = freeList): void {
  const freeList = list;
  let i = 0;
  while (i < freeList.length && freeList[i][0] < off) i++;
  freeList.splice(i, 0, [off, len]);
  // merge with neighbours
  for (let j = Math.max(0, i - 1); j < freeList.length - 1;) {
    const a = freeList[j];
    const b = freeList[j + 1];
    if (a[0] + a[1] === b[0]) {
      a[1] += b[1];
      freeList.splice(j + 1, 1);
    } else if (j >= i) break;
    else j++;
  }
}

/** Bytes still free in the heap (largest block and total). */
export function heapFree(): { total: number; largest: number } {
  let total = 0;
  let largest = 0;
  for (const [, l] of freeList) {
    total += l;
    largest = Math.max(largest, l);
  }
  return { total, largest };
}

function writeName(u8: Uint8Array, at: number, name: string): void {
  u8.fill(0, at, at + MZ_NAME_LEN);
  for (let i = 0; i < name.length; i++) u8[at + i] = name.charCodeAt(i);
}

function readName(u8: Uint8Array, at: number): string {
  let s = '';
  for (let i = 0; i < MZ_NAME_LEN && u8[at + i] !== 0; i++) s += String.fromCharCode(u8[at + i]);
  return s;
}

/** Reserves a named, zeroed block of the EAL region (DPDK's rte_memzone_reserve). Main lcore only. */
export function memzoneReserve(name: string, len: number, opts: ReserveOptions = {}): Memzone {
  requireMain('memzoneReserve');
  const r = mem();
  if (!/^[\x21-\x7e]{1,43}$/.test(name)) throw new MemoryError(`bad memzone name '${name}': 1 to 43 printable ASCII characters`);
  if (zones.has(name)) throw new MemoryError(`memzone '${name}' already exists`);
  if (!(len > 0) || !Number.isInteger(len)) throw new MemoryError(`bad memzone length ${len}`);
  const align = opts.align ?? 64;
  if (align & (align - 1)) throw new MemoryError(`memzone alignment ${align} is not a power of two`);
  let bound = opts.bound ?? 0;
  if (opts.contig && r.iovaPa) {
    if (len > r.pageSize) throw new MemoryError(`memzone '${name}': ${len} bytes cannot be IOVA-contiguous in PA mode (page is ${r.pageSize})`);
    bound = bound ? Math.min(bound, r.pageSize) : r.pageSize;
  }
  let slot = -1;
  for (let s = 0; s < MZ_MAX; s++) {
    if (r.u8[CTL.MEMZONES + s * 64] === 0) { slot = s; break; }
  }
  if (slot < 0) throw new MemoryError(`no free memzone slot (${MZ_MAX} in use)`);
  const off = alloc(len, align, bound);
  if (off < 0) {
    const f = heapFree();
    throw new MemoryError(`cannot reserve ${len} bytes for '${name}': ${f.total} bytes free, largest block ${f.largest}; ` +
      'give the EAL more memory with -m');
  }
  r.u8.fill(0, off, off + len);
  const at = CTL.MEMZONES + slot * 64;
  writeName(r.u8, at, name);
  r.u32[(at + 44) >> 2] = off;
  r.u32[(at + 48) >> 2] = len;
  r.f64[(at + 56) >> 3] = r.iova(off);
  zones.set(name, { slot, off, len });
  return { name, off, len, iova: r.iova(off), va: r.va(off) };
}

/** Finds a memzone by name, on any lcore. */
export function memzoneLookup(name: string): Memzone | null {
  const r = mem();
  for (let s = 0; s < MZ_MAX; s++) {
    const at = CTL.MEMZONES + s * 64;
    if (r.u8[at] !== 0 && readName(r.u8, at) === name) {
      const off = r.u32[(at + 44) >> 2];
      return { name, off, len: r.u32[(at + 48) >> 2], iova: r.f64[(at + 56) >> 3], va: r.va(off) };
    }
  }
  return null;
}

export function memzoneFree(name: string): void {
  requireMain('memzoneFree');
  const z = zones.get(name);
  if (!z) throw new MemoryError(`no memzone '${name}'`);
  const r = mem();
  r.u8.fill(0, CTL.MEMZONES + z.slot * 64, CTL.MEMZONES + z.slot * 64 + 64);
  release(z.off, z.len);
  zones.delete(name);
}

export function memzoneList(): Array<{ name: string; off: number; len: number }> {
  return [...zones.entries()].map(([name, z]) => ({ name, off: z.off, len: z.len }));
}

// ---------------------------------------------------------------------------------------------------------------
// External memory: memory the EAL did not allocate (a packet socket's ring, a memif peer's memfd regions) mapped
// into the window after the EAL's memory (DPDK's rte_extmem_register, for a process whose lcores see memory
// through one typed-array view each). Once mapped it is reached at a region offset from every lcore, so packets
// move between it and mbufs with copies inside one ArrayBuffer (copyWithin: memmove) and no per-lcore mapping.

export interface ExtMem {
  name: string;
  /** byte offset in the EAL region's views */
  off: number;
  len: number;
  /** virtual address (control path only) */
  va: bigint;
}

/**
 * Maps `len` bytes of `fd` from `fileOff` (MAP_SHARED, read-write) into the window; returns where. Main lcore only.
 * The mapping keeps its own reference to the file: the caller may close fd afterwards.
 */
export function extmemMap(name: string, fd: number, len: number, fileOff = 0): ExtMem {
  requireMain('extmemMap');
  const r = mem();
  if (extmems.has(name)) throw new MemoryError(`external memory '${name}' is already mapped`);
  if (!(len > 0) || !Number.isInteger(len)) throw new MemoryError(`bad external memory length ${len}`);
  const size = Math.ceil(len / 4096) * 4096;
  const off = alloc(size, 4096, 0, extFree);
  if (off < 0) {
    const room = extFree.reduce((a, [, l]) => Math.max(a, l), 0);
    throw new MemoryError(`cannot map ${size} bytes of external memory for '${name}': the window has ${room} bytes free in one ` +
      `piece (it is ${extWindow(r.len) >> 20} MiB after -m): close ports that use it, or use a smaller -m`);
  }
  try {
    ffi.mmapChecked(r.base + BigInt(off), size, ffi.PROT_READ | ffi.PROT_WRITE, ffi.MAP_SHARED | ffi.MAP_FIXED, fd, fileOff,
      `map ${name} (${size} bytes) into the EAL window`);
  } catch (e) {
    release(off, size, extFree);
    throw e;
  }
  const x: ExtMem = { name, off, len: size, va: r.base + BigInt(off) };
  extmems.set(name, x);
  return x;
}

/** Unmaps external memory; its address space goes back to the window (reserved, PROT_NONE). Main lcore only. */
export function extmemUnmap(name: string): void {
  requireMain('extmemUnmap');
  const x = extmems.get(name);
  if (!x) throw new MemoryError(`no external memory '${name}'`);
  ffi.mmapChecked(x.va, x.len, ffi.PROT_NONE, ffi.MAP_PRIVATE | ffi.MAP_ANONYMOUS | ffi.MAP_NORESERVE | ffi.MAP_FIXED, -1, 0,
    `unmap ${name}`);
  release(x.off, x.len, extFree);
  extmems.delete(name);
}

export function extmemLookup(name: string): ExtMem | null {
  return extmems.get(name) ?? null;
}

export function extmemList(): ExtMem[] {
  return [...extmems.values()];
}
