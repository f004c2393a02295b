// A test forwarder between pktgen's TX and RX ports (remoteLaunch on its own lcore): receives on one port and
// sends on another, dropping, duplicating or swapping packets by their pktgen sequence number, and holding every
// packet for holdNs before it leaves (a device under test with a known latency), or sending some on another port.
import { mem, memzoneLookup, quitRequested, lcoreId } from '../../src/eal/index.js';
import { rxBurst, txBurst } from '../../src/ethdev/ethdev.js';
import { M, mbufBind, pktmbufCopy, pktmbufFreeBulk } from '../../src/mempool/mbuf.js';
import { mempoolLookup } from '../../src/mempool/mempool.js';
import { NsClock } from '../../src/lib/clock.js';
import { stampSeq, stampStream } from '../../src/lib/frames.js';
import { GenZone } from '../../examples/pktgen/zone.js';

export interface ImpairArgs {
  rxPort: number;
  txPort: number;
  pool: string;
  holdNs: number;
  drop: number[];
  dup: number[];
  /** sequence numbers s whose packet leaves after s + 1's */
  swap: number[];
  /** sequence numbers whose packet leaves at once on divertPort (a DUT that splits a stream over two ports) */
  divert?: number[];
  divertPort?: number;
  baseSec: number;
}

const PASS = 0;
const DROP = 1;
const DUP = 2;
const SWAP = 3;
const DIVERT = 4;
const FIFO = 16384;

export default function impair(a: ImpairArgs): { forwarded: number; dropped: number } {
  const r = mem();
  mbufBind(r);
  const pool = mempoolLookup(a.pool)!;
  const clock = new NsClock(GenZone.lookup().timespecOff(lcoreId()), a.baseSec);
  const action = new Uint8Array(1 << 20);
  for (const s of a.drop) action[s] = DROP;
  for (const s of a.dup) action[s] = DUP;
  for (const s of a.swap) action[s] = SWAP;
  for (const s of a.divert ?? []) action[s] = DIVERT;
  const one = new Uint32Array(1);
  const q = new Uint32Array(FIFO);
  const at = new Float64Array(FIFO);
  let head = 0;
  let tail = 0;
  let held = 0;
  let heldAt = 0;
  let forwarded = 0;
  let dropped = 0;
  const pkts = new Uint32Array(32);
  const z = memzoneLookup('pg_impair');
  if (z) Atomics.store(new Int32Array(r.buf, z.off, 1), 0, 1);
  const out = new Uint32Array(32);
  const push = (m: number, t: number) => { q[tail % FIFO] = m; at[tail % FIFO] = t; tail++; };
  while (!quitRequested()) {
    const n = rxBurst(a.rxPort, 0, pkts, 32);
    const now = clock.now();
    for (let i = 0; i < n; i++) {
      const m = pkts[i];
      const e = r.u32[m + M.BUF_OFF] + r.u16[(m << 1) + M.H_DATA_OFF];
      const act = stampStream(r.u8, e, r.u32[m + M.PKT_LEN]) >= 0 ? action[stampSeq(r.u8, e) & (action.length - 1)] : PASS;
      if (act === DROP) { pktmbufFreeBulk(pkts, 1, i); dropped++; continue; }
      if (act === SWAP) { held = m; heldAt = now; continue; }
      if (act === DIVERT) {
        one[0] = m;
        if (txBurst(a.divertPort ?? a.txPort, 0, one, 1, 0) === 1) forwarded++;
        else { pktmbufFreeBulk(one, 1, 0); dropped++; }
        continue;
      }
      push(m, now);
      if (act === DUP) push(pktmbufCopy(m, pool), now);
      if (held !== 0) { push(held, heldAt); held = 0; }
    }
    let k = 0;
    while (k < 32 && head + k < tail && at[(head + k) % FIFO] + a.holdNs <= now) { out[k] = q[(head + k) % FIFO]; k++; }
    if (k > 0) {
      const sent = txBurst(a.txPort, 0, out, k, 0);
      head += sent;
      forwarded += sent;
    }
  }
  // what is still held goes back to the pool
  for (; head < tail; head++) { out[0] = q[head % FIFO]; pktmbufFreeBulk(out, 1, 0); }
  if (held !== 0) { out[0] = held; pktmbufFreeBulk(out, 1, 0); }
  return { forwarded, dropped };
}
