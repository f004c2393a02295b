// `pcap`: a capture file replayed through two net_pcap ports, measured twice in one run: pktio's l2fwd loop (no MAC
// rewrite) and dpdk-testpmd io forwarding, on the same ports:
//
//   port 0: rx_pcap=<frames>,infinite_rx=1  ──>  port 1: tx_pcap=/dev/null
//
// Both read the file (pktio: 1 MiB preads into a staging memzone; DPDK: libpcap's stdio reads) and write a pcap
// record stream (pktio: one write() per burst; DPDK: libpcap's pcap_dump into a stdio buffer, flushed per burst) to
// /dev/null, so the rate is what each spends per packet around the same kernel work. The rate is port 1's TX
// packets per second over the measured window (both sides counted by their own port statistics).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Testpmd, testpmdPath, NO_TESTPMD } from '../dpdk/testpmd.js';
import { BenchError, sleep, type BenchOpts, type BenchResult } from '../common.js';
import { pktioL2fwd } from '../l2fwd-inproc.js';
import { pcapFileHeader, PCAP_REC_HDR_LEN } from '../../src/pmd/pcap/format.js';

/** distinct frames in the file (it is replayed): enough to leave the caches honest, small enough to write fast */
const FRAMES = 4096;

/** A pcap image of FRAMES Ethernet frames of `size` bytes (IPv4/UDP headers, frame i carries i). */
function captureImage(size: number): Buffer {
  const rec = PCAP_REC_HDR_LEN + size;
  const b = Buffer.alloc(24 + FRAMES * rec);
  b.set(pcapFileHeader({ nsec: false, snaplen: 65535 }), 0);
  for (let i = 0; i < FRAMES; i++) {
    const at = 24 + i * rec;
    b.writeUInt32LE(i, at); // ts_sec
    b.writeUInt32LE(size, at + 8);
    b.writeUInt32LE(size, at + 12);
    b.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00, 0x45, 0, (size - 14) >> 8, (size - 14) & 0xff, i >> 8, i & 0xff, 0, 0, 64, 17], at + 16);
  }
  return b;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1];
}

export function describe(_o: BenchOpts, r: BenchResult): string {
  const vs = r.dpdkMpps !== null ? `, testpmd net_pcap ${r.dpdkMpps.toFixed(3)} Mpps, ratio ${r.ratio!.toFixed(2)}` : '';
  return `pcap replay (infinite_rx -> tx_pcap): pktio l2fwd ${r.mpps?.toFixed(3)} Mpps${vs}`;
}

/** dpdk-testpmd io between the two ports: port 1's TX packets per second over `seconds`. */
async function testpmdRate(vdevs: string[], o: BenchOpts): Promise<number> {
  const tp = await Testpmd.start({ vdevs, fwd: 'io', appArgs: [`--burst=${o.burst}`, '--no-flush-rx'] });
  try {
    await tp.cmd('start');
    await sleep(1000);
    const a = (await tp.portStats())[1].txPackets;
    const t0 = performance.now();
    await sleep(o.seconds * 1000);
    const b = (await tp.portStats())[1].txPackets;
    const secs = (performance.now() - t0) / 1000;
    await tp.cmd('stop');
    return (b - a) / secs / 1e6;
  } finally {
    await tp.quit();
  }
}

export async function run(o: BenchOpts): Promise<BenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pktio-bench-pcap-'));
  try {
    const input = path.join(dir, 'in.pcap');
    const size = o.size ?? 64;
    if (size < 60 || size > 9018) throw new BenchError(`pcap bench: --size ${size}: frames from 60 to 9018 bytes`);
    fs.writeFileSync(input, captureImage(size));
    const vdevs = [`net_pcap0,rx_pcap=${input},infinite_rx=1`, 'net_pcap1,tx_pcap=/dev/null'];
    if (o.vsDpdk && !testpmdPath()) throw new BenchError(NO_TESTPMD);
    // rounds alternate the two sides (a loaded machine shifts both alike); medians are reported
    const runs: Array<Awaited<ReturnType<typeof pktioL2fwd>>> = [];
    const dpdk: number[] = [];
    for (let i = 0; i < Math.max(1, o.rounds); i++) {
      const r = await pktioL2fwd({ vdevs, seconds: o.seconds, macUpdating: false });
      if (r.mbufsLost !== 0) throw new BenchError(`pcap bench: ${r.mbufsLost} mbufs not back in the pool after the ports closed`);
      runs.push(r);
      if (o.vsDpdk) dpdk.push(await testpmdRate(vdevs, o));
    }
    const r = [...runs].sort((a, b) => a.mpps - b.mpps)[runs.length >> 1];
    const dpdkMpps = dpdk.length ? median(dpdk) : null;
    return {
      scenario: 'pcap', mpps: r.mpps, dpdkMpps, ratio: dpdkMpps ? r.mpps / dpdkMpps : null, packets: r.packets,
      seconds: r.seconds, gcCount: r.gcCount, heapBytesPerPacket: r.heapBytesPerPacket,
      rounds: runs.map((x, i) => ({ pktio: x.mpps, dpdk: dpdk[i] ?? null })),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
