// The wake table of RX interrupts: every thread that sleeps on RX queue interrupts (rxIntrWait on a lcore, the
// waker thread of rxBursts) owns a wake eventfd that sits in its epoll set next to the queues' sources. The table,
// in EAL shared memory, lists each sleeper's wake fd and the ports it watches, so that devStop (main lcore) and
// requestQuit (any lcore) can write those fds and a sleeping thread returns at once and ends its loop.
import { isMainThread } from 'node:worker_threads';
import { mem, memzoneLookup, memzoneReserve, type Region } from '../eal/memory.js';
import * as ffi from '../eal/ffi.js';

const ZONE = 'ethdev_intr_wake';
/** sleepers at once: every lcore (128) and a waker thread per thread that runs rxBursts */
export const WAKE_SLOTS = 256;
// slot words (i32): the wake eventfd plus one (0: free slot), the mask of ports the sleeper watches
const W_FD1 = 0;
const W_PORTS = 1;
const W_WORDS = 2;

let zoneOff = -1;
let zoneRegion: Region | null = null;

/** i32 index of slot 0's first word, or -1 when no port asked for interrupts yet (nobody sleeps). */
function slots(create: boolean): number {
  if (zoneRegion === mem() && zoneOff >= 0) return zoneOff >> 2;
  const z = memzoneLookup(ZONE) ?? (create && isMainThread ? memzoneReserve(ZONE, WAKE_SLOTS * W_WORDS * 4) : null);
  if (!z) return -1;
  zoneRegion = mem();
  zoneOff = z.off;
  return zoneOff >> 2;
}

/** Reserves the table (main lcore, at the devStart of a port with intrConf.rxq) so worker lcores find it. */
export function wakeTableInit(): void {
  slots(true);
}

/** Claims a slot for wake eventfd `fd`; returns its index. */
export function wakeSlotClaim(fd: number): number {
  const b = slots(true);
  if (b < 0) throw new Error('RX interrupts: no port was started with intrConf: { rxq: true }');
  const i32 = mem().i32;
  for (let s = 0; s < WAKE_SLOTS; s++) {
    const w = b + s * W_WORDS;
    if (Atomics.compareExchange(i32, w + W_FD1, 0, fd + 1) === 0) {
      Atomics.store(i32, w + W_PORTS, 0);
      return s;
    }
  }
  throw new Error(`RX interrupts: all ${WAKE_SLOTS} sleeper slots are in use`);
}

export function wakeSlotRelease(slot: number): void {
  const b = slots(false);
  if (b < 0) return;
  Atomics.store(mem().i32, b + slot * W_WORDS + W_PORTS, 0);
  Atomics.store(mem().i32, b + slot * W_WORDS + W_FD1, 0);
}

/** Sets the mask of ports whose stop wakes the slot's sleeper. */
export function wakeSlotPorts(slot: number, mask: number): void {
  Atomics.store(mem().i32, slots(false) + slot * W_WORDS + W_PORTS, mask | 0);
}

const ONE = new BigUint64Array([1n]);

/** Writes the wake fd of every sleeper that watches `port` (every sleeper when port < 0). */
export function wakeSleepers(port: number): void {
  if (!zoneRegion && !memzoneLookup(ZONE)) return;
  const b = slots(false);
  if (b < 0) return;
  const i32 = mem().i32;
  for (let s = 0; s < WAKE_SLOTS; s++) {
    const fd1 = Atomics.load(i32, b + s * W_WORDS + W_FD1);
    if (fd1 === 0) continue;
    if (port >= 0 && (Atomics.load(i32, b + s * W_WORDS + W_PORTS) & (1 << port)) === 0) continue;
    ffi.write(fd1 - 1, ONE, 8);
  }
}
