// A lockless ring of 32-bit values in the shared EAL region, usable between lcores (DPDK's rte_ring).
//
// Head and tail indexes run freely over 32 bits; slot = index & mask. A producer reserves room by moving the
// producer head (plain store when single-producer, compareExchange when multi-producer), writes the slots, then
// publishes them with ONE Atomics.store of the producer tail. Consumers do the same on the consumer side. With
// several producers, each waits for the ones that reserved before it to publish first, so the tail only moves
// over fully written slots.
//
// Layout (u32 words from the ring's offset): 0 magic, 1 flags, 2 size, 3 mask, 4 capacity;
// cache line 1: producer head, tail; cache line 2: consumer head, tail; slots from cache line 3.
import { copyU32 } from '../eal/copy.js';
import { mem, memzoneReserve, memzoneLookup, memzoneFree, MemoryError, type Region } from '../eal/memory.js';

export const RING_F_SP_ENQ = 1;
export const RING_F_SC_DEQ = 2;
/** The ring holds exactly `count` items (its size is rounded up to a power of two). */
export const RING_F_EXACT_SZ = 4;

const MAGIC = 0x52494e47; // "RING"
const W_MAGIC = 0;
const W_FLAGS = 1;
const W_SIZE = 2;
const W_MASK = 3;
const W_CAP = 4;
const W_PHEAD = 16;
const W_PTAIL = 17;
const W_CHEAD = 32;
const W_CTAIL = 33;
const W_SLOTS = 48;
export const RING_HDR_BYTES = W_SLOTS * 4;

export class RingError extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'RingError';
  }
}

/** Bytes of shared memory a ring of `count` entries needs (rte_ring_get_memsize). */
export function ringMemSize(count: number, flags = 0): number {
  return RING_HDR_BYTES + ringSize(count, flags) * 4;
}

function ringSize(count: number, flags: number): number {
  if (!Number.isInteger(count) || count < 1 || count > 0x40000000) throw new RingError(`bad ring count ${count}`);
  if (flags & RING_F_EXACT_SZ) return 2 ** Math.ceil(Math.log2(count + 1));
  if (count & (count - 1)) {
    throw new RingError(`ring count ${count} is not a power of two (or pass RING_F_EXACT_SZ)`);
  }
  return count;
}

/** Writes a ring header at byte offset `off` of the region (memory must be zeroed and ringMemSize bytes long). */
export function ringInitAt(r: Region, off: number, count: number, flags: number): void {
  const size = ringSize(count, flags);
  const w = off >> 2;
  r.u32[w + W_FLAGS] = flags;
  r.u32[w + W_SIZE] = size;
  r.u32[w + W_MASK] = size - 1;
  r.u32[w + W_CAP] = flags & RING_F_EXACT_SZ ? count : size - 1;
  r.u32[w + W_PHEAD] = r.u32[w + W_PTAIL] = r.u32[w + W_CHEAD] = r.u32[w + W_CTAIL] = 0;
  Atomics.store(r.u32, w + W_MAGIC, MAGIC);
}

export class Ring {
  readonly name: string;
  /** byte offset of the ring in the EAL region */
  readonly off: number;
  readonly size: number;
  readonly mask: number;
  readonly capacity: number;
  readonly sp: boolean;
  readonly sc: boolean;
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  /**
   * This thread's last view of the other side's tail, for a single producer (the consumer tail) and a single
   * consumer (the producer tail). Tails only move forward, so a stale copy underestimates what is possible and
   * is reloaded with one Atomics.load only when a request does not fit.
   */
  private cachedConsTail = 0;
  private cachedProdTail = 0;
  private readonly ph: number;
  private readonly pt: number;
  private readonly ch: number;
  private readonly ct: number;
  private readonly slots: number;

  /** Views a ring that exists at byte offset `off` (any lcore). */
  constructor(name: string, off: number, region: Region = mem()) {
    const w = off >> 2;
    if (region.u32[w + W_MAGIC] !== MAGIC) throw new RingError(`no ring at offset ${off}`);
    this.name = name;
    this.off = off;
    this.u32 = region.u32;
    this.i32 = region.i32;
    const flags = region.u32[w + W_FLAGS];
    this.size = region.u32[w + W_SIZE];
    this.mask = region.u32[w + W_MASK];
    this.capacity = region.u32[w + W_CAP];
    this.sp = (flags & RING_F_SP_ENQ) !== 0;
    this.sc = (flags & RING_F_SC_DEQ) !== 0;
    this.ph = w + W_PHEAD;
    this.pt = w + W_PTAIL;
    this.ch = w + W_CHEAD;
    this.ct = w + W_CTAIL;
    this.slots = w + W_SLOTS;
    // start from the tails as they are now: a cached 0 would overstate the room (or the entries) once the free-running
    // indexes are past 2^31, e.g. for a view made after billions of packets went through the ring
    this.cachedConsTail = Atomics.load(this.i32, this.ct);
    this.cachedProdTail = Atomics.load(this.i32, this.pt);
  }

  /** Enqueues all n values of objs[from..from+n) or none. Returns n or 0. */
  enqueueBulk(objs: Uint32Array, n: number, from = 0): number {
    return this.enqueue(objs, from, n, true);
  }

  /** Enqueues as many of objs[from..from+n) as fit. Returns how many. */
  enqueueBurst(objs: Uint32Array, n: number, from = 0): number {
    return this.enqueue(objs, from, n, false);
  }

  /** Dequeues exactly n values into objs[from..] or none. Returns n or 0. */
  dequeueBulk(objs: Uint32Array, n: number, from = 0): number {
    return this.dequeue(objs, from, n, true);
  }

  /** Dequeues up to n values into objs[from..]. Returns how many. */
  dequeueBurst(objs: Uint32Array, n: number, from = 0): number {
    return this.dequeue(objs, from, n, false);
  }

  // Indexes are handled as wrapping int32 (x | 0) so they stay small integers in the JIT.
  private enqueue(objs: Uint32Array, from: number, n: number, fixed: boolean): number {
    const i32 = this.i32;
    let head: number;
    let next: number;
    if (this.sp) {
      head = i32[this.ph];
      let free = (this.capacity + this.cachedConsTail - head) | 0;
      if (n > free) {
        this.cachedConsTail = Atomics.load(i32, this.ct);
        free = (this.capacity + this.cachedConsTail - head) | 0;
        if (n > free) {
          if (fixed || free === 0) return 0;
          n = free;
        }
      }
      next = (head + n) | 0;
      i32[this.ph] = next;
    } else {
      for (;;) {
        head = Atomics.load(i32, this.ph);
        const free = (this.capacity + Atomics.load(i32, this.ct) - head) | 0;
        if (n > free) {
          if (fixed || free === 0) return 0;
          n = free;
        }
        next = (head + n) | 0;
        if (Atomics.compareExchange(i32, this.ph, head, next) === head) break;
      }
    }
    const idx = head & this.mask;
    const first = this.size - idx;
    if (n <= first) copyU32(this.u32, this.slots + idx, objs, from, n);
    else {
      copyU32(this.u32, this.slots + idx, objs, from, first);
      copyU32(this.u32, this.slots, objs, from + first, n - first);
    }
    if (!this.sp) while (Atomics.load(i32, this.pt) !== head);
    Atomics.store(i32, this.pt, next);
    return n;
  }

  private dequeue(objs: Uint32Array, from: number, n: number, fixed: boolean): number {
    const i32 = this.i32;
    let head: number;
    let next: number;
    if (this.sc) {
      head = i32[this.ch];
      let avail = (this.cachedProdTail - head) | 0;
      if (n > avail) {
        this.cachedProdTail = Atomics.load(i32, this.pt);
        avail = (this.cachedProdTail - head) | 0;
        if (n > avail) {
          if (fixed || avail === 0) return 0;
          n = avail;
        }
      }
      next = (head + n) | 0;
      i32[this.ch] = next;
    } else {
      for (;;) {
        head = Atomics.load(i32, this.ch);
        const avail = (Atomics.load(i32, this.pt) - head) | 0;
        if (n > avail) {
          if (fixed || avail === 0) return 0;
          n = avail;
        }
        next = (head + n) | 0;
        if (Atomics.compareExchange(i32, this.ch, head, next) === head) break;
      }
    }
    const idx = head & this.mask;
    const first = this.size - idx;
    if (n <= first) copyU32(objs, from, this.u32, this.slots + idx, n);
    else {
      copyU32(objs, from, this.u32, this.slots + idx, first);
      copyU32(objs, from + first, this.u32, this.slots, n - first);
    }
    if (!this.sc) while (Atomics.load(i32, this.ct) !== head);
    Atomics.store(i32, this.ct, next);
    return n;
  }

  /** Enqueues one value; false when full. */
  enqueueOne(v: number): boolean {
    one[0] = v;
    return this.enqueue(one, 0, 1, true) === 1;
  }

  /** Dequeues one value; -1 when empty (use the bulk calls for values of 2^31 and above). */
  dequeueOne(): number {
    return this.dequeue(one, 0, 1, true) === 1 ? one[0] : -1;
  }

  /** Entries in the ring (rte_ring_count). */
  count(): number {
    return (Atomics.load(this.i32, this.pt) - Atomics.load(this.i32, this.ct)) | 0;
  }

  freeCount(): number {
    return this.capacity - this.count();
  }

  empty(): boolean {
    return this.count() === 0;
  }

  full(): boolean {
    return this.count() === this.capacity;
  }
}

const one = new Uint32Array(1);


const PREFIX = 'RG_';

/** Creates a named ring in the EAL region (main lcore). flags: RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ. */
export function ringCreate(name: string, count: number, flags = 0): Ring {
  if (memzoneLookup(PREFIX + name)) throw new RingError(`ring '${name}' already exists`);
  const bytes = ringMemSize(count, flags);
  let mz;
  try {
    mz = memzoneReserve(PREFIX + name, bytes, { align: 64 });
  } catch (e) {
    throw new RingError(`cannot create ring '${name}': ${(e as MemoryError).message}`);
  }
  ringInitAt(mem(), mz.off, count, flags);
  return new Ring(name, mz.off);
}

/** Finds a ring by name on any lcore; null when there is none. */
export function ringLookup(name: string): Ring | null {
  const mz = memzoneLookup(PREFIX + name);
  return mz ? new Ring(name, mz.off) : null;
}

export function ringFree(ring: Ring): void {
  memzoneFree(PREFIX + ring.name);
}
