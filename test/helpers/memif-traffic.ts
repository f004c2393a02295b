// Numbered traffic for the memif tests: frames carry (magic, queue, sequence number) after the Ethernet header; a
// checker sees every number exactly once and in order per queue. Runs on the main lcore and yields to the event
// loop between bursts, so memif's control channel (a timer) keeps working while traffic flows.
import { rxBurst, txBurst } from '../../src/ethdev/ethdev.js';
import { mem } from '../../src/eal/index.js';
import { pktmbufAllocBurst, pktmbufFreeBulk, mtod, M } from '../../src/mempool/mbuf.js';
import type { Mempool } from '../../src/mempool/mempool.js';

export const MAGIC = 0x6d656d69; // "memi"
const BURST = 32;

export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until cond() holds, yielding to the event loop; false after ms. */
export async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

export interface SeqStats {
  sent: number;
  received: number;
  lost: number;
  dups: number;
  reordered: number;
  bad: number;
}

function put32(u8: Uint8Array, at: number, v: number): void {
  u8[at] = v;
  u8[at + 1] = v >>> 8;
  u8[at + 2] = v >>> 16;
  u8[at + 3] = v >>> 24;
}

function get32(u8: Uint8Array, at: number): number {
  return (u8[at] | (u8[at + 1] << 8) | (u8[at + 2] << 16) | (u8[at + 3] << 24)) >>> 0;
}

/** Sender and checker of one queue of one port. */
export class SeqFlow {
  next = 0;
  expect = 0;
  readonly st: SeqStats = { sent: 0, received: 0, lost: 0, dups: 0, reordered: 0, bad: 0 };
  private readonly pend = new Uint32Array(BURST);
  private npend = 0;
  private readonly rx = new Uint32Array(BURST);

  constructor(readonly txPort: number, readonly rxPort: number, readonly q: number, readonly pool: Mempool, readonly size = 64) {}

  get inFlight(): number {
    return this.st.sent - this.st.received - this.st.lost;
  }

  /** Builds and sends up to `room` more frames (unsent ones are kept and sent first next time). */
  send(room: number, limit: number): void {
    const u8 = mem().u8;
    const u32 = mem().u32;
    while (this.npend < BURST && this.next < limit && room > this.npend) {
      if (pktmbufAllocBurst(this.pool, this.pend, 1, this.npend) !== 1) break;
      const m = this.pend[this.npend++];
      const d = mtod(m);
      u8.fill(0, d, d + this.size);
      u8[d] = 0x02; // dst 02:00:00:00:00:01, src 02:00:00:00:00:02, type 0x88b5 (local experimental)
      u8[d + 5] = 1;
      u8[d + 6] = 0x02;
      u8[d + 11] = 2;
      u8[d + 12] = 0x88;
      u8[d + 13] = 0xb5;
      put32(u8, d + 14, MAGIC);
      put32(u8, d + 18, this.q);
      put32(u8, d + 22, this.next++);
      u32[m + M.DATA] = (u32[m + M.DATA] & 0xffff0000) | this.size;
      u32[m + M.PKT_LEN] = this.size;
    }
    if (this.npend === 0) return;
    const k = txBurst(this.txPort, this.q, this.pend, this.npend);
    this.st.sent += k;
    this.pend.copyWithin(0, k, this.npend);
    this.npend -= k;
  }

  /** Receives and checks one burst; returns how many frames came. */
  recv(): number {
    const n = rxBurst(this.rxPort, this.q, this.rx, BURST);
    const u8 = mem().u8;
    for (let i = 0; i < n; i++) {
      const d = mtod(this.rx[i]);
      if (get32(u8, d + 14) !== MAGIC || get32(u8, d + 18) !== this.q) {
        this.st.bad++;
        continue;
      }
      const s = get32(u8, d + 22);
      if (s === this.expect) this.expect++;
      else if (s < this.expect) this.st.dups++;
      else {
        this.st.reordered++;
        this.expect = s + 1;
      }
      this.st.received++;
    }
    if (n > 0) pktmbufFreeBulk(this.rx, n);
    return n;
  }

  /** Frees frames built but not yet taken by the port. */
  dropPending(): void {
    if (this.npend > 0) pktmbufFreeBulk(this.pend, this.npend);
    this.npend = 0;
  }

  /** Frames sent but never seen again count as lost (after a peer restart, say); the checker moves on. */
  writeOffLoss(): number {
    const lost = this.next - this.npend - this.expect;
    this.st.lost += this.st.sent - this.st.received - this.st.lost;
    this.expect = this.next - this.npend;
    return lost;
  }
}

/**
 * Runs flows until each has sent `count` frames and seen them back (or `ms` passed without progress), keeping at
 * most `window` frames in flight per flow. Yields to the event loop every `yieldEvery` bursts.
 */
export async function runFlows(flows: SeqFlow[], count: number, window: number, ms = 10000, yieldEvery = 8): Promise<boolean> {
  let last = Date.now();
  let k = 0;
  for (;;) {
    let done = true;
    for (const f of flows) {
      f.send(window - f.inFlight, count);
      if (f.recv() > 0) last = Date.now();
      if (f.st.received < count) done = false;
    }
    if (done) return true;
    if (++k % yieldEvery === 0) {
      await tick();
      if (Date.now() - last > ms) return false;
    }
  }
}

