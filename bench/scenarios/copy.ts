// `copy`: the packet copy of the software ports (copyBytes, src/eal/copy.ts) against the alternatives, inside the
// EAL region, at 64, 256, 1500 and 9000 bytes. Both ends aligned alike (what an RX fill arranges) and unlike
// (a TX into a frame whose offset the driver cannot choose). Each method has its own call site in the loop, so
// every one is measured inlined and monomorphic. Numbers are ns per copy; mpps is copyBytes' copies per second at
// the first size. `TypedArray.set` needs a subarray per copy (it allocates): it is measured, never used.
import * as pktio from '../../src/index.js';
import { copyBytes, copyU32 } from '../../src/eal/copy.js';
import { BenchError, hugeArgs, type BenchOpts, type BenchResult } from '../common.js';

const METHODS = ['copyBytes', 'copyWithin', 'f64-loop', 'u32-loop', 'u8-loop', 'set-subarray'] as const;
const SLOT = 16384;
const SLOTS = 64;

function f64Loop(f64: Float64Array, d: number, s: number, w: number): void {
  for (let k = 0; k < w; k++) f64[d + k] = f64[s + k];
}

function u8Loop(u8: Uint8Array, d: number, s: number, n: number): void {
  for (let k = 0; k < n; k++) u8[d + k] = u8[s + k];
}

/** ns per copy of n bytes with method m; src slots at `src`, dst slots at `dst`, ends offset by `skew` bytes. */
function timeOne(r: pktio.Region, m: number, src: number, dst: number, n: number, skew: number, ms: number): number {
  const { u8, u32, f64 } = r;
  let copies = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 1024; i++) {
      const s = src + (i & (SLOTS - 1)) * SLOT;
      const d = dst + (i & (SLOTS - 1)) * SLOT + skew;
      switch (m) {
        case 0: copyBytes(u8, f64, d, s, n); break;
        case 1: u8.copyWithin(d, s, s + n); break;
        case 2: f64Loop(f64, d >>> 3, s >>> 3, n >>> 3); break;
        case 3: copyU32(u32, d >>> 2, u32, s >>> 2, n >>> 2); break;
        case 4: u8Loop(u8, d, s, n); break;
        default: u8.set(u8.subarray(s, s + n), d);
      }
    }
    copies += 1024;
    t = performance.now();
  }
  return ((t - t0) * 1e6) / copies;
}

export async function run(o: BenchOpts): Promise<BenchResult> {
  if (o.vsDpdk) throw new BenchError('copy has no DPDK side (it compares copy methods): drop --vs-dpdk');
  const sizes = o.size ? [o.size] : [64, 256, 1500, 9000];
  if (sizes.some((s) => s > SLOT - 64)) throw new BenchError(`--size ${o.size}: at most ${SLOT - 64} bytes`);
  await pktio.init(['-l', String(pktio.cpusAllowed()[0]), ...hugeArgs(false), '--log-level', 'warn', '--file-prefix', `pktio-bench-${process.pid}`]);
  try {
    const r = pktio.mem();
    const src = pktio.memzoneReserve('copy_src', SLOT * SLOTS, { align: 4096 }).off;
    const dst = pktio.memzoneReserve('copy_dst', SLOT * SLOTS, { align: 4096 }).off;
    for (let i = 0; i < SLOT * SLOTS; i++) r.u8[src + i] = (i * 131) & 0xff;
    const ms = Math.max(50, (o.seconds * 1000) / (sizes.length * METHODS.length * 2 * 2)); // two skews, two passes
    const ns: Record<string, Record<string, number>> = {};
    const before = process.memoryUsage().heapUsed;
    for (let pass = 0; pass < 2; pass++) { // the first pass warms every path up; the second is reported
      for (const n of sizes) {
        for (const [skewName, skew] of [['aligned', 0], ['unaligned', 2]] as const) {
          const row: Record<string, number> = {};
          METHODS.forEach((name, m) => {
            // element loops need both ends aligned to their width: they are measured aligned only
            if (skew !== 0 && (m === 2 || m === 3)) return;
            row[name] = Number(timeOne(r, m, src, dst, n, skew, ms).toFixed(2));
          });
          ns[`${n} ${skewName}`] = row;
        }
      }
    }
    for (const n of sizes) {
      for (let i = 0; i < SLOTS; i++) {
        const s = src + i * SLOT;
        const d = dst + i * SLOT;
        copyBytes(r.u8, r.f64, d, s, n);
        for (let k = 0; k < n; k++) if (r.u8[d + k] !== r.u8[s + k]) throw new Error(`copyBytes copied ${n} bytes wrong at ${k}`);
      }
    }
    const first = ns[`${sizes[0]} aligned`].copyBytes;
    return {
      scenario: 'copy', mpps: 1e3 / first, dpdkMpps: null, ratio: null, packets: 0, seconds: o.seconds, gcCount: 0,
      heapBytesPerPacket: 0, heapGrowth: process.memoryUsage().heapUsed - before, nsPerCopy: ns,
    };
  } finally {
    await pktio.cleanup();
  }
}

export function describe(_o: BenchOpts, res: BenchResult): string {
  const ns = res.nsPerCopy as Record<string, Record<string, number>>;
  const head = `${'bytes'.padEnd(15)}${METHODS.map((m) => m.padStart(13)).join('')}\n`;
  return head + Object.entries(ns).map(([k, row]) =>
    `${k.padEnd(15)}${METHODS.map((m) => (row[m] === undefined ? '-' : row[m].toFixed(1)).padStart(13)).join('')}\n`).join('') +
    'ns per copy (lower is better); copyBytes is what the software ports use\n';
}

export const jsonExtras = ['nsPerCopy'];
