// In the guest (compiled: dist/test/vm/guest/timesync-check.js): IEEE 1588 timestamps between two pktio igb ports
// on one QEMU hub (topology loop). Both clocks enabled and written to the same time; their offset measured by
// reading A, B, A; then COUNT PTPv2 Sync frames (EtherType 0x88F7) from A with TX_IEEE1588_TMST, each received
// on B: the RX flags and packet type of each, A's TX time and B's RX time of each, rx - tx corrected by the
// measured offset. One frame without TX_IEEE1588_TMST must leave A's latch empty. QEMU's igb stamps from its
// virtual clock, and a hub delivers in the sender's call, so the corrected difference is small (the TCG time
// between the two latches).
//   node dist/test/vm/guest/timesync-check.js BDF_A BDF_B COUNT [EAL flags...]
// Prints KEY=VALUE lines (test/vm/timesync.vm.ts reads them).
import * as pktio from '../../../src/index.js';
import { mbuf } from '../../../src/index.js';

const [bdfA, bdfB, countArg, ...eal] = process.argv.slice(2);
const COUNT = Number(countArg);
await pktio.init(['-l', '0', '-a', bdfA, '-a', bdfB, '-m', '128', '--log-level', 'warn', ...eal]);
const out = (k: string, v: unknown) => console.log(`${k}=${v}`);
const A = 0;
const B = 1;
const pool = pktio.pktmbufPoolCreate('ts_pool', 2047, 0, 0, pktio.MBUF_DEFAULT_BUF_SIZE);
for (const p of [A, B]) {
  pktio.devConfigure(p, 1, 1, {});
  pktio.rxQueueSetup(p, 0, 256, -1, null, pool);
  pktio.txQueueSetup(p, 0, 256, -1, null);
  pktio.devStart(p);
}
out('link_a', pktio.linkGet(A, true).up ? 1 : 0);
out('link_b', pktio.linkGet(B, true).up ? 1 : 0);

// ---- clocks ----------------------------------------------------------------------------------------------------
pktio.timesyncEnable(A);
pktio.timesyncEnable(B);
const T0 = BigInt(Date.now()) * 1_000_000n;
pktio.timesyncWriteTime(A, T0);
pktio.timesyncWriteTime(B, T0);
out('clock_a_after_write_ns', pktio.timesyncReadTime(A) - T0);
/** B's clock minus A's, to within errorNs (the best of 16 rounds of reading A, B, A) */
const { offsetNs: offset, errorNs } = pktio.timesyncClockOffset(A, B, 16);
out('clock_offset_ns', offset);
out('clock_offset_error_ns', errorNs);

// ---- frames ----------------------------------------------------------------------------------------------------
const macB = pktio.macAddrGet(B);
const macA = pktio.macAddrGet(A);
function sync(seq: number, stamp: boolean): number {
  const f = new Uint8Array(14 + 44);
  f.set(macB, 0);
  f.set(macA, 6);
  f.set([0x88, 0xf7, 0x00, 0x02, 0, 44], 12); // EtherType 1588; messageType 0 (Sync), versionPTP 2, length 44
  f[14 + 30] = seq >> 8; // sequenceId
  f[14 + 31] = seq & 0xff;
  const m = mbuf.pktmbufAlloc(pool);
  if (m === 0) throw new Error('pool empty');
  mbuf.append(m, f.length);
  mbuf.writeData(m, f);
  mbuf.setOlFlags(m, stamp ? mbuf.TX_IEEE1588_TMST : 0);
  return m;
}

const burst = new Uint32Array(32);
/** Waits for one frame on B (2 s at most); returns [ol_flags, packet_type, sequenceId] or null. */
function receiveOne(): [number, number, number] | null {
  const end = Date.now() + 2000;
  while (Date.now() < end) {
    const n = pktio.rxBurst(B, 0, burst, 32);
    if (n === 0) continue;
    const m = burst[0];
    const d = mbuf.mtod(m);
    const u8 = pktio.mem().u8;
    const res: [number, number, number] = [mbuf.olFlags(m), mbuf.packetType(m), (u8[d + 44] << 8) | u8[d + 45]];
    pktio.pktmbufFreeBulk(burst, n, 0);
    return res;
  }
  return null;
}

/** Polls A's TX latch until it holds a time (the NIC sends when it gets to the descriptor), 1 s at most. */
function txStamp(): bigint | null {
  const end = Date.now() + 1000;
  for (;;) {
    const t = pktio.timesyncReadTxTimestamp(A);
    if (t !== null || Date.now() > end) return t;
  }
}

const one = new Uint32Array(1);
let received = 0;
let flagged = 0;
let ptype = 0;
let seqOk = 0;
let txStamps = 0;
let rxStamps = 0;
let min = 1n << 62n;
let max = -(1n << 62n);
for (let i = 0; i < COUNT; i++) {
  one[0] = sync(i, true);
  if (pktio.txBurst(A, 0, one, 1) !== 1) pktio.pktmbufFree(one[0]);
  const r = receiveOne();
  if (r === null) continue;
  received++;
  if ((r[0] & (mbuf.RX_IEEE1588_PTP | mbuf.RX_IEEE1588_TMST)) === (mbuf.RX_IEEE1588_PTP | mbuf.RX_IEEE1588_TMST)) flagged++;
  if (r[1] === mbuf.PTYPE_L2_ETHER_TIMESYNC) ptype++;
  if (r[2] === i) seqOk++;
  const tx = txStamp();
  const rx = pktio.timesyncReadRxTimestamp(B);
  if (tx !== null) txStamps++;
  if (rx !== null) rxStamps++;
  if (tx === null || rx === null) continue;
  const d = rx - tx - offset;
  if (d < min) min = d;
  if (d > max) max = d;
  if (i === 0) out('first_rx_minus_tx_raw_ns', rx - tx);
}
out('sent', COUNT);
out('received', received);
out('rx_flags_set', flagged);
out('ptype_timesync', ptype);
out('seq_match', seqOk);
out('tx_stamps', txStamps);
out('rx_stamps', rxStamps);
out('rx_minus_tx_min_ns', min);
out('rx_minus_tx_max_ns', max);

// a frame without TX_IEEE1588_TMST: received, not stamped on either side
one[0] = sync(9999, false);
if (pktio.txBurst(A, 0, one, 1) !== 1) pktio.pktmbufFree(one[0]);
const plain = receiveOne();
out('plain_received', plain ? 1 : 0);
out('plain_tx_stamp', txStamp() === null ? 'none' : 'latched');
// B stamps every Sync frame it receives: this one too (the RX side does not look at the sender's request)
out('plain_rx_flag', plain && (plain[0] & mbuf.RX_IEEE1588_TMST) !== 0 ? 1 : 0);
pktio.timesyncReadRxTimestamp(B);

pktio.timesyncDisable(A);
pktio.timesyncDisable(B);
for (const p of [A, B]) {
  pktio.devStop(p);
  pktio.devClose(p);
}
out('mbufs_in_use', pool.inUseCount());
out('done', 1);
