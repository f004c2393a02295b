// Mixed traffic through examples/l2fwd in a QEMU guest (guest/mixed-traffic.sh): for SECONDS, in both directions
// between ns0 and ns1 at once, a ping flood, UDP of many sizes over 4 flows each way, and jumbo pings (MTU 9000);
// then pktio's port counters must equal the kernel's, sum by sum (the script's header defines each one), with every
// loss counted on exactly one side. By default a short run on e1000e in type1 (20 s of traffic, about a minute in
// all); PKTIO_VM_MIXED_SECONDS=600 runs the issue's ten minutes, PKTIO_VM_MIXED_NICS=e1000e,igb,virtio more models.
import t from 'tap';
import * as path from 'node:path';
import { rigMissing, runInGuest, guestDir, showGuestOnFailure, type VmNic } from './vm.js';

const seconds = Number(process.env.PKTIO_VM_MIXED_SECONDS ?? 20);
const nics = (process.env.PKTIO_VM_MIXED_NICS ?? 'e1000e').split(',') as VmNic[];
if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`PKTIO_VM_MIXED_SECONDS='${process.env.PKTIO_VM_MIXED_SECONDS}': whole seconds of traffic, e.g. 600`);
const bad = nics.filter((x) => !['e1000e', 'igb', 'virtio', 'mixed'].includes(x));
if (bad.length) throw new Error(`PKTIO_VM_MIXED_NICS: unknown model ${bad.join(',')}: a comma-separated list of e1000e, igb, virtio, mixed`);

for (const nic of nics) {
  const missing = rigMissing(nic);
  t.test(`${seconds} s of mixed traffic through l2fwd over two ${nic} ports, VFIO type1`, { skip: missing ?? false, timeout: (seconds + 900) * 1000 }, async (t) => {
    const r = await runInGuest({ mode: 'type1', nic, timeoutSec: seconds + 600 }, `bash ${path.join(guestDir, 'mixed-traffic.sh')} type1 ${seconds}`);
    showGuestOnFailure(t, r, 200);
    const k = r.kv;
    const n = (x: string) => Number(k[x] ?? NaN);
    // the counts, on success too: a long run's numbers are its record
    t.comment(r.out.split('\n').filter((l) => /^[a-z]\w*=\S*$/.test(l.trim()) || l.startsWith('mismatch_')).join('\n'));
    t.equal(r.code, 0, 'guest script exit status');
    t.equal(k.l2fwd_started, '1', 'l2fwd started with both VFIO ports');
    t.equal(k.ping_rc, '0', 'a ping crosses before the traffic');
    t.equal(k.jumbo, '1', 'jumbo frames (MTU 9000)');
    for (const ns of ['ns0', 'ns1']) {
      t.ok(n(`${ns}_flood_ping_tx`) > 0, `${ns}: ping flood sent ${k[`${ns}_flood_ping_tx`]}`);
      t.ok(n(`${ns}_jumbo_ping_tx`) > 0, `${ns}: jumbo pings sent ${k[`${ns}_jumbo_ping_tx`]}`);
      t.ok(n(`${ns}_gen_udp_sent_small`) > 0 && n(`${ns}_gen_udp_sent_mid`) > 0 && n(`${ns}_gen_udp_sent_jumbo`) > 0,
        `${ns}: UDP of every size class sent (${k[`${ns}_gen_udp_sent_small`]} <= 200 B, ${k[`${ns}_gen_udp_sent_mid`]} <= 1472 B, ` +
        `${k[`${ns}_gen_udp_sent_jumbo`]} larger)`);
      t.equal(n(`${ns}_gen_udp_received`), n(`${ns}_gen_udp_intact`), `${ns}: every datagram received is intact`);
    }
    t.equal(k.mixed_equal, '1', `pktio's counters equal the kernel's, every sum exact (${k.mixed_frames} frames)`);
    // pktio's own side loses nothing: what its NICs received was forwarded and sent. (Ten-minute runs found l2fwd
    // drops twice: the Intel TX queue refused packets while completed descriptors awaited reclaim, its top-of-burst
    // reclaim counting the burst's packets, not descriptors; it now reclaims again before refusing any packet,
    // 143ae3d and 5970197, fuzzed in test/e1000e, test/igb. One run in between lost 141 accepted frames on e1000e,
    // cause not found; the ten-minute e1000e and igb runs since were lossless)
    for (const p of [0, 1]) {
      for (const c of ['imissed', 'ierrors', 'oerrors', 'rx_nombuf', 'drop']) t.equal(n(`pktio_port${p}_${c}`), 0, `pktio port ${p}: ${c} 0`);
    }
    t.comment(`lost (and counted) outside pktio: ${k.mixed_lost}; UDP not taken in by the other stack: ` +
      `${k.stack_udp_lost_0to1} (0 to 1), ${k.stack_udp_lost_1to0} (1 to 0)`);
    t.equal(k.l2fwd_rc, '0', 'l2fwd exits 0 after SIGINT');
    t.equal(k.l2fwd_bye, '1', 'l2fwd printed its final statistics and exited cleanly');
    t.notOk(k.mbufs_lost, 'every mbuf back in its pool');
    const back = [...r.out.matchAll(/readback (\S+) busmaster=(\d)/g)];
    t.equal(back.length, 2, 'both ports read back after l2fwd stopped');
    for (const m of back) t.equal(m[2], '0', `${m[1]}: bus mastering off`);
  });
}
