// The RX interrupt of a port whose packets come from another thread of this process (net_ring, net_null): an
// eventfd the producer writes, but only when the consumer has armed the queue. Two words in EAL shared memory
// per queue:
//   IRQ_ARMED  1 while the consumer sleeps (RxQueue.intrEnable stores it, intrDisable clears it)
//   IRQ_FD     the eventfd (-1 while the port is stopped)
// The producer loads IRQ_ARMED after it published its packets (one Atomics.load per burst, no syscall while the
// consumer polls); if set, it clears it with an exchange (one writer wins) and writes the eventfd. With the
// consumer's order (store IRQ_ARMED, then poll once more: ethdev's rxIntrArm) and the producer's (publish with
// an Atomics.store of the ring's tail, then load IRQ_ARMED), one of them always sees the other: no lost wake-up.
import * as ffi from '../../eal/ffi.js';
import { mem } from '../../eal/memory.js';
import type { EthConf, RxIntrSource } from '../driver.js';

export const IRQ_ARMED = 0;
export const IRQ_FD = 1;
export const IRQ_WORDS = 2;
export const IRQ_BYTES = IRQ_WORDS * 4;

const ONE = new BigUint64Array([1n]);

/** Producer side: wakes the consumer of the queue whose words start at i32 index w, if it is armed. */
export function irqSignal(i32: Int32Array, w: number): void {
  if (Atomics.load(i32, w + IRQ_ARMED) === 0) return;
  if (Atomics.exchange(i32, w + IRQ_ARMED, 0) === 0) return;
  const fd = Atomics.load(i32, w + IRQ_FD);
  if (fd >= 0) ffi.write(fd, ONE, 8);
}

/** Consumer side (RxQueue.intrEnable/intrDisable). */
export function irqArm(i32: Int32Array, w: number): void {
  Atomics.store(i32, w + IRQ_ARMED, 1);
}

export function irqDisarm(i32: Int32Array, w: number): void {
  Atomics.store(i32, w + IRQ_ARMED, 0);
}

/** Control half, at port start: opens the queue's eventfd (non-blocking: ethdev drains it after a wake-up). */
export function irqOpen(i32: Int32Array, w: number, who: string): number {
  const fd = ffi.check(ffi.eventfd(0, ffi.EFD_CLOEXEC | ffi.EFD_NONBLOCK), `${who}: eventfd for the RX interrupt`);
  Atomics.store(i32, w + IRQ_ARMED, 0);
  Atomics.store(i32, w + IRQ_FD, fd);
  return fd;
}

/** Control half, at port stop: unpublishes and closes the eventfd. */
export function irqClose(i32: Int32Array, w: number): void {
  const fd = Atomics.exchange(i32, w + IRQ_FD, -1);
  Atomics.store(i32, w + IRQ_ARMED, 0);
  if (fd >= 0) ffi.close(fd);
}

/**
 * The control half's share (net_ring, net_null): the words of each RX queue (set at queue setup), their eventfds
 * opened at start when the port was configured with intrConf.rxq, closed at stop, and the source ethdev watches.
 */
export class ProducerIrqs {
  /** i32 index of each RX queue's words */
  words: number[] = [];

  constructor(private readonly who: string) {}

  start(conf: EthConf): void {
    if (conf.intrConf?.rxq) for (const w of this.words) irqOpen(mem().i32, w, this.who);
  }

  stop(): void {
    for (const w of this.words) irqClose(mem().i32, w);
  }

  source(q: number): RxIntrSource {
    return { fd: mem().i32[this.words[q] + IRQ_FD], kind: 'eventfd' };
  }
}
