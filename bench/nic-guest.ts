// Inside the rig's guest: the forwarding half of the l2fwd-<nic> benches. Two pktio ports on one QEMU hub (run.sh's
// loop topology: PKTIO_VM_PORT_A and _B), each port's output arrives at the other; a first burst of 32 frames from
// each port (testpmd's `start tx_first`), then examples/l2fwd's loop forwards between them (no MAC rewrite, like
// testpmd's io mode). Prints pktio_mpps= and pktio_packets= (frames forwarded in the measured window), and for
// drivers that count them (net_virtio's *_notifications xstats) pktio_kicks= (notifications in that window), plus
// pktio_drops= (frames l2fwd dropped over the run) and pktio_loops= (passes of its loop).
import * as pktio from '../src/index.js';
import { MAX_PORTS, ST_DROP, type FwdArgs } from '../examples/l2fwd/fwd.js';
import { pktmbufAllocPackets } from '../src/mempool/mbuf.js';

const seconds = Number(process.argv[2] ?? 10);
/** warm-up before the window: V8 optimises the loop in tiers, and compiling is slow under TCG (3 s left the loop
 * measurably slower than 10 s in the same guest) */
const warmupMs = Number(process.env.PKTIO_BENCH_WARMUP_S ?? 10) * 1000;
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const a = process.env.PKTIO_VM_PORT_A ?? '0000:00:03.0';
const b = process.env.PKTIO_VM_PORT_B ?? '0000:00:04.0';
await pktio.init(['-l', '0,1', '-a', a, '-a', b, '-m', '128', '--log-level', 'warn']);
const pool = pktio.pktmbufPoolCreate('bench_pool', 8191, 256, 0, pktio.MBUF_DEFAULT_BUF_SIZE);
for (const p of [0, 1]) {
  pktio.devConfigure(p, 1, 1);
  const info = pktio.devInfoGet(p); // virtio-net's rings are what QEMU gives (256)
  pktio.rxQueueSetup(p, 0, Math.min(512, info.rxDescLim.nbMax), -1, null, pool);
  pktio.txQueueSetup(p, 0, Math.min(512, info.txDescLim.nbMax), -1, null);
  pktio.devStart(p);
  pktio.promiscuousEnable(p);
}
for (const p of [0, 1]) if (!pktio.linkGet(p, true).up) throw new Error(`port ${p}: link down`);
// QEMU reports the link up a moment before the hub carries frames: let it settle
await new Promise((r) => setTimeout(r, 2000));
// tx_first: 32 broadcast frames from each port
const burst = new Uint32Array(32);
for (const p of [0, 1]) {
  const n = pktmbufAllocPackets(pool, burst, 32, 64, p);
  for (let i = 0; i < n; i++) {
    const d = pktio.mbuf.mtod(burst[i]);
    pktio.mem().u8.fill(0xff, d, d + 6);
    // EtherType 0x88b5 (local experimental): QEMU's Intel models drop frames whose IP header does not parse
    pktio.mem().u8.set([0x52, 0x54, 0, 0, 1, 1 + p, 0x88, 0xb5], d + 6);
  }
  const sent = pktio.txBurst(p, 0, burst, n);
  if (sent < n) pktio.pktmbufFreeBulk(burst, n - sent, sent);
}
const z = pktio.memzoneReserve('l2fwd', (MAX_PORTS * 4 + 16) * 8);
const dst = new Array(MAX_PORTS).fill(-1);
dst[0] = 1;
dst[1] = 0;
const args: FwdArgs = { rxPorts: [0, 1], dst, macUpdating: false, macs: [] };
pktio.remoteLaunch(1, new URL(`../examples/l2fwd/fwd${ext}`, import.meta.url), args);
const fwd = () => pktio.statsGet(0).opackets + pktio.statsGet(1).opackets;
const kicks = () => [0, 1].reduce((a, p) => a + pktio.xstatsGet(p).filter((x) => x.name.endsWith('_notifications')).reduce((b, x) => b + x.value, 0), 0);
await new Promise((r) => setTimeout(r, warmupMs));
const p0 = fwd();
const k0 = kicks();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const p1 = fwd();
const k1 = kicks();
const t1 = performance.now();
pktio.requestQuit();
const done = (await pktio.waitLcore(1)) as { iterations?: number } | undefined;
const app = new Float64Array(pktio.mem().buf, z.off, MAX_PORTS * 4);
console.log(`pktio_mpps=${((p1 - p0) / ((t1 - t0) / 1000) / 1e6).toFixed(6)}`);
console.log(`pktio_packets=${p1 - p0}`);
console.log(`pktio_kicks=${k1 - k0}`);
console.log(`pktio_drops=${app[ST_DROP] + app[4 + ST_DROP]}`);
console.log(`pktio_loops=${done?.iterations ?? 0}`);
await pktio.cleanup();
