// A TX fuzz for the drivers' simulated NICs: random bursts of 1- and 5-segment packets (optionally some with a VLAN
// tag to insert, which makes advanced-descriptor drivers write context descriptors) while the simulated NIC sends a
// random number of descriptors after each burst, so it lags behind the driver by up to two rings. Every frame
// carries a sequence number in its first 4 bytes and each segment is filled with a byte of its own: a descriptor
// reclaimed before the NIC sent it, an mbuf freed early (then reallocated and overwritten by a later frame) or a
// ring overrun shows as a frame missing, sent twice, out of order or with bytes of another frame.
import { mem } from '../../src/eal/index.js';
import { pktmbufAllocBulk, pktmbufFreeBulk, chain, append, mtod, setOlFlags, setVlanTci, TX_VLAN, type Mempool } from '../../src/mempool/mbuf.js';
import { txBurst } from '../../src/ethdev/ethdev.js';

export interface TxFuzzOptions {
  port: number;
  queue: number;
  pool: Mempool;
  /** the NIC model: sends up to max descriptors of the queue, returns the frames it completed */
  stepTx: (q: number, max?: number) => { bytes: Uint8Array; vlan: number }[];
  /** descriptors in the ring */
  nb: number;
  rounds: number;
  /** tag about one packet in four with a VLAN id from a small set (TX_VLAN: needs TX_OFFLOAD_VLAN_INSERT) */
  vlan?: boolean;
  seed?: number;
}

export interface TxFuzzResult {
  /** frames the NIC sent */
  frames: number;
  chains: number;
  tagged: number;
  /** accepted frames never sent */
  missing: number;
  /** the first few frames that were not what the driver had accepted next */
  errors: string[];
}

/** A xorshift32 generator of integers below n, from a seed: the same sequence every run. */
export function randomBelow(seed: number): (n: number) => number {
  let x = seed;
  return (n) => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) % n; };
}

const seqAt = (u8: Uint8Array, o: number): number => (u8[o] | (u8[o + 1] << 8) | (u8[o + 2] << 16) | (u8[o + 3] << 24)) >>> 0;

export function txFuzz(o: TxFuzzOptions): TxFuzzResult {
  const rnd = randomBelow(o.seed ?? 0x9e3779b9);
  const sent = new Map<number, { lens: number[]; vlan: number }>();
  const pending: number[] = [];
  const seg = new Uint32Array(5);
  const pk = new Uint32Array(32);
  const u8 = mem().u8;
  const res: TxFuzzResult = { frames: 0, chains: 0, tagged: 0, missing: 0, errors: [] };
  let seq = 0;
  const check = (frames: { bytes: Uint8Array; vlan: number }[]): void => {
    for (const f of frames) {
      const want = pending.shift();
      const exp = want === undefined ? undefined : sent.get(want);
      // the frame as the driver handed it over: an inserted tag taken out again
      const b = f.vlan >= 0 ? Uint8Array.from([...f.bytes.subarray(0, 12), ...f.bytes.subarray(16)]) : f.bytes;
      const got = seqAt(b, 0);
      let ok = exp !== undefined && got === want && b.length === exp.lens.reduce((a, l) => a + l, 0) && f.vlan === exp.vlan;
      for (let s = 0, off = 0; ok && exp && s < exp.lens.length; off += exp.lens[s++]) {
        const fill = (got * 5 + s) & 0xff;
        if (b[off + 4] !== fill || b[off + exp.lens[s] - 1] !== fill) ok = false;
      }
      if (!ok && res.errors.length < 5) res.errors.push(`frame ${res.frames}: expected seq ${want}, got ${got} (${b.length} bytes, vlan ${f.vlan})`);
      if (want !== undefined) sent.delete(want);
      res.frames++;
    }
  };
  for (let round = 0; round < o.rounds; round++) {
    const n = 1 + rnd(32);
    let k = 0;
    for (; k < n; k++) {
      const segs = rnd(3) === 0 ? 5 : 1;
      if (!pktmbufAllocBulk(o.pool, seg, segs, 0)) break;
      const lens: number[] = [];
      for (let s = 0; s < segs; s++) {
        const len = 16 + rnd(1000);
        append(seg[s], len);
        u8.fill((seq * 5 + s) & 0xff, mtod(seg[s]), mtod(seg[s]) + len);
        if (s > 0) chain(seg[0], seg[s]);
        lens.push(len);
      }
      const d = mtod(seg[0]);
      u8[d] = seq & 0xff; u8[d + 1] = (seq >>> 8) & 0xff; u8[d + 2] = (seq >>> 16) & 0xff; u8[d + 3] = seq >>> 24;
      let vlan = -1;
      if (o.vlan && rnd(4) === 0) {
        vlan = 100 + rnd(3); // a few ids, so the context changes now and then and is reused in between
        setOlFlags(seg[0], TX_VLAN);
        setVlanTci(seg[0], vlan);
        res.tagged++;
      }
      sent.set(seq, { lens, vlan });
      if (segs > 1) res.chains++;
      pk[k] = seg[0];
      seq++;
    }
    const acc = txBurst(o.port, o.queue, pk, k, 0);
    for (let i = 0; i < k; i++) {
      const s = seqAt(u8, mtod(pk[i]));
      if (i < acc) pending.push(s);
      else sent.delete(s);
    }
    if (acc < k) pktmbufFreeBulk(pk, k - acc, acc);
    check(o.stepTx(o.queue, rnd(2 * o.nb)));
  }
  check(o.stepTx(o.queue));
  res.missing = pending.length;
  return res;
}
