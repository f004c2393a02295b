// The forwarding loop of l2fwd, run on each worker lcore (DPDK's l2fwd_main_loop).
// Receives bursts from this lcore's ports, optionally rewrites the MACs, and sends each burst on to the paired port
// at once, in one txBurst. DPDK's l2fwd buffers single packets (rte_eth_tx_buffer) until a burst is full or 100 us
// have passed; here a poll returns a whole burst, and a short one means the port has no more for now, so holding it
// would only add latency. With nothing ever held back there is no TX buffer, no drain timer and no final flush: what
// the TX ring refuses is freed at once and counted as dropped for that port (txDrop, the work DPDK's
// rte_eth_tx_buffer_count_callback does).
import { mem, memzoneLookup, quitRequested, lcoreId } from '../../src/eal/index.js';
import { rxBurst, txBurst } from '../../src/ethdev/ethdev.js';
import { pktmbufFreeBulk, M } from '../../src/mempool/mbuf.js';
import * as v8 from 'node:v8';

export const MAX_PKT_BURST = 32;
export const MAX_PORTS = 32;
/** per-port app counters in the "l2fwd" memzone: f64 [tx, rx, dropped] */
export const ST_TX = 0;
export const ST_RX = 1;
export const ST_DROP = 2;
/** i32 words after the counters: mark request (bench), mark seen; f64 mark results */
export const CTL_WORD = MAX_PORTS * 4 * 2; // i32 index
export const MARK_F64 = MAX_PORTS * 4 + 8; // f64 index: per mark [heapUsed, gcCount, gcFreed]
/** i32 word: lcores that have started forwarding (the main lcore starts --duration once all have) */
export const STARTED_WORD = CTL_WORD + 2;

export interface FwdArgs {
  /** RX ports polled by this lcore */
  rxPorts: number[];
  /** destination port of every port id */
  dst: number[];
  macUpdating: boolean;
  /** MAC of every port (6 bytes each), for the source address */
  macs: number[][];
  /** stop after this many loop iterations (0: run until quitRequested()) */
  maxIterations?: number;
}

/** What a forwarding lcore holds (makeCtx): memory views, the counters, the MAC words. */
export interface Ctx {
  u8: Uint8Array;
  u16: Uint16Array;
  u32: Uint32Array;
  st: Float64Array;
  ctl: Int32Array;
  /** per destination port: frame bytes 4..7 (00, port, src[0], src[1]) and 8..11 (src[2..5]), little-endian */
  macW1: Int32Array;
  macW2: Int32Array;
}

/** Writes a frame's 12 address bytes at word w: 02:00:00:00 then the two precomputed words. */
function putMacs(u32: Uint32Array, w: number, w1: number, w2: number): void {
  u32[w] = 2;
  u32[w + 1] = w1;
  u32[w + 2] = w2;
}

/**
 * Rewrites the Ethernet addresses: dst 02:00:00:00:00:<dst port>, src = the TX port's MAC. Three 32-bit stores
 * when the frame is 4-byte aligned (it is with the default headroom), bytes otherwise.
 */
function macUpdate(c: Ctx, m: number, dstPort: number): void {
  const e = c.u32[m + M.BUF_OFF] + c.u16[(m << 1) + M.H_DATA_OFF];
  if ((e & 3) === 0) {
    putMacs(c.u32, e >> 2, c.macW1[dstPort], c.macW2[dstPort]);
  } else {
    const u8 = c.u8;
    const w1 = c.macW1[dstPort];
    const w2 = c.macW2[dstPort];
    u8[e] = 2; u8[e + 1] = 0; u8[e + 2] = 0; u8[e + 3] = 0;
    u8[e + 4] = w1; u8[e + 5] = w1 >> 8; u8[e + 6] = w1 >> 16; u8[e + 7] = w1 >> 24;
    u8[e + 8] = w2; u8[e + 9] = w2 >> 8; u8[e + 10] = w2 >> 16; u8[e + 11] = w2 >> 24;
  }
}

/** macUpdate over a burst, four packets at a time with their header loads grouped before the stores. */
function macUpdateBurst(c: Ctx, pkts: Uint32Array, n: number, d: number): void {
  const u32 = c.u32;
  const u16 = c.u16;
  const w1 = c.macW1[d];
  const w2 = c.macW2[d];
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const m0 = pkts[j];
    const m1 = pkts[j + 1];
    const m2 = pkts[j + 2];
    const m3 = pkts[j + 3];
    const e0 = u32[m0 + M.BUF_OFF] + u16[(m0 << 1) + M.H_DATA_OFF];
    const e1 = u32[m1 + M.BUF_OFF] + u16[(m1 << 1) + M.H_DATA_OFF];
    const e2 = u32[m2 + M.BUF_OFF] + u16[(m2 << 1) + M.H_DATA_OFF];
    const e3 = u32[m3 + M.BUF_OFF] + u16[(m3 << 1) + M.H_DATA_OFF];
    if (((e0 | e1 | e2 | e3) & 3) !== 0) break;
    putMacs(u32, e0 >> 2, w1, w2);
    putMacs(u32, e1 >> 2, w1, w2);
    putMacs(u32, e2 >> 2, w1, w2);
    putMacs(u32, e3 >> 2, w1, w2);
  }
  for (; j < n; j++) macUpdate(c, pkts[j], d);
}

function takeMark(c: Ctx, mark: number, prof: { p: v8.GCProfiler | null }): void {
  // outside the measured window: allocation here is fine
  const base = MARK_F64 + (mark & 1) * 4;
  if ((mark & 1) === 1) {
    // start the window from a clean heap when the process allows it (node --expose-gc)
    (globalThis as { gc?: () => void }).gc?.();
    prof.p = new v8.GCProfiler();
    prof.p.start();
    c.st[base] = v8.getHeapStatistics().used_heap_size;
    c.st[base + 1] = 0;
    c.st[base + 2] = 0;
  } else {
    const used = v8.getHeapStatistics().used_heap_size;
    const r = prof.p?.stop();
    prof.p = null;
    let freed = 0;
    for (const g of r?.statistics ?? []) {
      freed += g.beforeGC.heapStatistics.usedHeapSize - g.afterGC.heapStatistics.usedHeapSize;
    }
    c.st[base] = used;
    c.st[base + 1] = r?.statistics.length ?? 0;
    c.st[base + 2] = freed;
  }
  Atomics.store(c.ctl, CTL_WORD + 1, mark);
}

/**
 * Frees the n packets from index `from` that port d's TX ring refused and counts them as dropped for d. A plain
 * function called with the burst array, not a callback made per port or per packet: nothing allocated on the hot
 * path, and one call site with one shape of arguments (monomorphic).
 */
function txDrop(st: Float64Array, d: number, pkts: Uint32Array, from: number, n: number): void {
  pktmbufFreeBulk(pkts, n, from);
  st[d * 4 + ST_DROP] += n;
}

/** Counts n packets received on port p and sends them to port d in one txBurst (MACs rewritten when `mac`). */
export function forwardBurst(c: Ctx, p: number, d: number, pkts: Uint32Array, n: number, mac: boolean): void {
  const st = c.st;
  st[p * 4 + ST_RX] += n;
  if (mac) macUpdateBurst(c, pkts, n, d);
  // the whole burst at once: holding a short one back for a fuller burst would only add latency (top of file)
  const sent = txBurst(d, 0, pkts, n, 0);
  if (sent > 0) st[d * 4 + ST_TX] += sent;
  if (sent < n) txDrop(st, d, pkts, sent, n - sent);
}

/**
 * The forwarding loop. It has no drain timer (forwardBurst holds nothing back), so it never reads the EAL clock: a
 * clock reader makes the main lcore tick every millisecond.
 */
function loop(c: Ctx, rx: Int32Array, dst: Int32Array, pkts: Uint32Array, mac: boolean, maxIter: number): number {
  let seen = 0;
  const prof: { p: v8.GCProfiler | null } = { p: null };
  const nrx = rx.length;
  // passes counted in a Float64Array element, not a local: a small integer that outgrows int32 (2^31 passes, about
  // an hour at 40 Mpps on null ports) changes representation, and the loop then allocated a heap number per pass
  // (the one-hour soak went from 0 to 300-600 GCs a minute exactly there)
  const passes = new Float64Array(1);
  while (!quitRequested()) {
    if (++passes[0] === maxIter) break;
    for (let i = 0; i < nrx; i++) {
      const p = rx[i];
      const n = rxBurst(p, 0, pkts, MAX_PKT_BURST);
      if (n !== 0) forwardBurst(c, p, dst[p], pkts, n, mac);
    }
    const mark = Atomics.load(c.ctl, CTL_WORD);
    if (mark !== seen) {
      seen = mark;
      takeMark(c, mark, prof);
    }
  }
  return passes[0];
}

/** The forwarding context of an lcore: views of the "l2fwd" memzone and the MAC words of every port. */
export function makeCtx(a: FwdArgs): Ctx {
  const z = memzoneLookup('l2fwd');
  if (!z) throw new Error('l2fwd: memzone missing');
  const r = mem();
  const macW1 = new Int32Array(MAX_PORTS);
  const macW2 = new Int32Array(MAX_PORTS);
  a.macs.forEach((m, p) => {
    if (!m) return;
    macW1[p] = (p << 8) | (m[0] << 16) | (m[1] << 24);
    macW2[p] = m[2] | (m[3] << 8) | (m[4] << 16) | (m[5] << 24);
  });
  const st = new Float64Array(r.buf, z.off, MAX_PORTS * 4 + 16);
  return { u8: r.u8, u16: r.u16, u32: r.u32, st, ctl: new Int32Array(r.buf, z.off, STARTED_WORD + 1), macW1, macW2 };
}

/** Counts this lcore as forwarding; called once, just before its loop. */
export function markStarted(c: Ctx): void {
  Atomics.add(c.ctl, STARTED_WORD, 1);
}

/** Entry point for remoteLaunch: forwards until quitRequested(). Returns the lcore and the loop's passes. */
export default function l2fwdMainLoop(a: FwdArgs): { lcore: number; iterations: number } {
  const c = makeCtx(a);
  const rx = Int32Array.from(a.rxPorts);
  const dst = Int32Array.from(a.dst);
  markStarted(c);
  const iterations = loop(c, rx, dst, new Uint32Array(MAX_PKT_BURST), a.macUpdating, a.maxIterations ?? 0);
  return { lcore: lcoreId(), iterations };
}
