// IEEE 1588 hardware timestamps on QEMU 10's igb (82576): two pktio ports on one hub (--nic igb --topology loop),
// one type1 guest (guest/timesync.sh, guest/timesync-check.ts). Port A sends PTPv2 Sync frames with
// TX_IEEE1588_TMST, port B receives them: every frame carries RX_IEEE1588_PTP and _TMST and the L2_ETHER_TIMESYNC
// packet type, each has a TX time on A and an RX time on B, and B's RX time minus A's TX time (corrected by the
// clocks' measured offset) is within a few milliseconds: QEMU latches both from its virtual clock in the sender's
// call. Then pktgen --timestamps hardware over the same ports for 3 s. About 80 s (boot, prepare, node start-ups
// under TCG).
import t from 'tap';
import * as path from 'node:path';
import { rigMissing, runInGuest, guestDir, showGuestOnFailure } from './vm.js';

const COUNT = 20;

t.test('igb IEEE 1588: TX stamps on A, RX stamps on B, rx - tx plausible', { skip: rigMissing('igb') ?? false, timeout: 400000 }, async (t) => {
  const r = await runInGuest({ mode: 'type1', nic: 'igb', topology: 'loop', timeoutSec: 240 },
    `bash ${path.join(guestDir, 'timesync.sh')} type1 ${COUNT}`);
  showGuestOnFailure(t, r);
  const k = r.kv;
  const n = (key: string) => Number(k[key]);
  t.equal(r.code, 0, 'guest script exit status');
  t.equal(k.check_rc, '0', 'timesync-check.ts exits 0');
  t.equal(k.link_a, '1', 'port A link up');
  t.equal(k.link_b, '1', 'port B link up');
  t.ok(Math.abs(n('clock_offset_ns')) < 50e6, `clocks written to the same time differ by ${k.clock_offset_ns} ns (+- ${k.clock_offset_error_ns} ns)`);
  t.equal(n('received'), COUNT, `B received every Sync frame (${k.received}/${COUNT})`);
  t.equal(n('rx_flags_set'), COUNT, 'each with RX_IEEE1588_PTP and RX_IEEE1588_TMST');
  t.equal(n('ptype_timesync'), COUNT, 'each with packet type L2_ETHER_TIMESYNC');
  t.equal(n('seq_match'), COUNT, 'in order (sequenceId)');
  t.equal(n('tx_stamps'), COUNT, 'a TX time on A for each');
  t.equal(n('rx_stamps'), COUNT, 'an RX time on B for each');
  const lo = n('rx_minus_tx_min_ns');
  const hi = n('rx_minus_tx_max_ns');
  // QEMU latches both times from its virtual clock in the sender's call: the corrected difference is about 0, within
  // the offset's error bound and some TCG time between the two latches
  const err = n('clock_offset_error_ns');
  t.ok(lo > -(err + 1e6) && hi < err + 5e6, `rx - tx - offset from ${lo} to ${hi} ns, offset error +- ${err} ns (first raw rx - tx ${k.first_rx_minus_tx_raw_ns} ns)`);
  t.equal(k.plain_received, '1', 'a frame without TX_IEEE1588_TMST is received');
  t.equal(k.plain_tx_stamp, 'none', 'and latches no TX time on A');
  t.equal(k.mbufs_in_use, '0', 'every mbuf back in its pool');
  t.equal(k.done, '1');
  // pktgen --timestamps hardware over the same two ports
  t.equal(k.pktgen_rc, '0', 'pktgen --timestamps hardware exits 0');
  t.equal(k.pktgen_timestamps, 'hardware', 'its result says hardware');
  t.equal(n('pktgen_lost'), 0, `no stream packet lost (${k.pktgen_tx} sent)`);
  t.ok(n('pktgen_probes_measured') >= 10, `probes measured: ${k.pktgen_probes_measured} of ${k.pktgen_probes_sent} (lost ${k.pktgen_probes_lost})`);
  t.equal(n('pktgen_lat_count'), n('pktgen_probes_measured'), 'the latency histogram holds the measured probes');
  t.ok(n('pktgen_lat_p50_ns') < n('pktgen_clock_error_ns') + 5e6, `latency p50 ${k.pktgen_lat_p50_ns} ns, max ${k.pktgen_lat_max_ns} ns (clock offset error +- ${k.pktgen_clock_error_ns} ns)`);
});
