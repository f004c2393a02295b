// net_virtio end to end in a QEMU guest (run.sh --nic virtio: virtio-net-pci in every role, the kernel ends too):
// for each VFIO mode and ring layout (QEMU's packed=on|off; pktio takes what is offered), examples/l2fwd bridges
// ns0 and ns1 over two virtio ports: the jumbo phase (MTU 9000 over mergeable buffers, ping -s 8972 -M do, 1,000
// datagrams of 8,000 bytes), then the l2fwd phase (ping, 10,000 UDP datagrams, pktio's counters equal to the
// kernel's), each ending with the devices reset and bus mastering off. Last, a legacy-only device (disable-modern=on)
// must be refused with a message that says so; two queue pairs through VIRTIO_NET_CTRL_MQ carry 8 flows exactly. The split-ring guests (QEMU packed=off) also ask port A for packed
// virtqueues (packed_vq=1) afterwards: refused naming VIRTIO_F_RING_PACKED, device_status 0, no mbuf lost.
// Every such boot ends with RX interrupts (guest/virtio-intr.sh, ~30 s): examples/l2fwd-power forwards ping
// between ns0 and ns1 with its lcore asleep between the pings, woken through the ports' MSI-X vectors.
import t from 'tap';
import * as path from 'node:path';
import { rigMissing, rigLayout, runInGuest, guestDir, showGuestOnFailure, type VmMode } from './vm.js';
import { checkL2fwd, phase } from './checks.js';

const all: Array<{ mode: VmMode; packed: boolean }> = [
  { mode: 'type1', packed: false },
  { mode: 'type1', packed: true },
  { mode: 'noiommu', packed: false },
  { mode: 'noiommu', packed: true },
  { mode: 'cdev', packed: false },
  { mode: 'cdev', packed: true },
];
// every mode and both ring layouts with PKTIO_VM_VIRTIO_ALL=1; by default two guests that between them cover
// split and packed rings and the IOMMU (type1) and iommufd (cdev) flows, keeping the suite within CI's budget
const runs = process.env.PKTIO_VM_VIRTIO_ALL === '1' ? all : all.filter((r) => (r.mode === 'type1' && !r.packed) || (r.mode === 'cdev' && r.packed));
const missing = rigMissing('virtio');

for (const { mode, packed } of runs) {
  const phases = ['jumbo', 'l2fwd'];
  t.test(`jumbo, l2fwd over two virtio ports (${packed ? 'packed' : 'split'} virtqueues), VFIO ${mode}`, { skip: missing ?? false, timeout: 900000 }, async (t) => {
    const layout = rigLayout('virtio');
    // a split-ring guest's devices lack RING_PACKED: the same boot checks a refused negotiation (seconds)
    const refuse = packed ? '' : `node ${path.join(guestDir, 'virtio-refuse.mjs')} $PKTIO_VM_PORT_A $PKTIO_VM_PORT_B; `;
    const intr = `PKTIO_VM_PREPARED=1 bash ${path.join(guestDir, 'virtio-intr.sh')} ${mode}`;
    const r = await runInGuest({ mode, nic: 'virtio', packed, timeoutSec: 240 * phases.length + 120 },
      `bash ${path.join(guestDir, 'nic-suite.sh')} ${mode} ${phases.join(' ')}; rc=$?; ${refuse}${intr}; exit $rc`);
    // after the subtests below have run (a check of t.passing() here would come before them)
    showGuestOnFailure(t, r, 300);
    t.equal(r.code, 0, 'guest script exit status');
    for (const p of phases) {
      t.test(p, async (t) => {
        const k = phase(r.kv, p);
        t.equal(k.rc, '0', `${p} phase exit status`);
        checkL2fwd(t, k, r.out.split('\n').filter((l) => l.startsWith(`${p}_`)).join('\n'),
          { mode, ports: [layout.PKTIO_VM_PORT_A, layout.PKTIO_VM_PORT_B], jumbo: p === 'jumbo', virtio: { packed } });
      });
    }
    if (!packed) {
      t.test('packed_vq=1 on a device without VIRTIO_F_RING_PACKED', async (t) => {
        t.equal(r.kv.refuse_packed, '1', 'configuration refused');
        t.match(r.out, /refuse_msg=.*packed_vq=1.*does not offer VIRTIO_F_RING_PACKED/, 'the message names the missing feature');
        t.equal(r.kv.refuse_status, '0', 'device left reset (device_status 0)');
        t.equal(r.kv.refuse_other_started, '1', 'the other port still negotiates and starts');
        t.equal(r.kv.refuse_inuse, '0', 'every mbuf back in the pool');
      });
    }
    t.test('RX interrupts: l2fwd-power forwards ping, its lcore asleep between the pings', async (t) => {
      const k = r.kv;
      t.equal(k.intr_started, '1', 'l2fwd-power started on both virtio ports with intrConf.rxq (vectors bound, read back)');
      t.equal(k.intr_ping_rc, '0', 'ping through it');
      t.equal(k.intr_ping_received, '10', 'all 10 pings answered');
      t.ok(Number(k.intr_msix_irqs) > 0, `the guest kernel took ${k.intr_msix_irqs} interrupts on the ports' VFIO MSI-X vectors`);
      t.ok(Number(k.intr_wakeups) > 0, `the lcore slept and woke on them (${k.intr_wakeups} wake-ups, ${k.intr_asleep_s} s asleep)`);
      t.equal(k.intr_rc, '0', 'exits 0 after SIGINT');
      t.equal(k.intr_bye, '1', 'and printed its final statistics');
      t.notOk(k.intr_mbufs_lost, 'every mbuf back in its pool');
    });
  });
}

t.test('a legacy-only virtio device is refused', { skip: missing ?? false, timeout: 600000 }, async (t) => {
  const root = path.resolve(guestDir, '../../..');
  const r = await runInGuest({ mode: 'type1', nic: 'virtio', topology: 'loop', virtioLegacy: true, timeoutSec: 240 },
    `bash ${path.join(guestDir, 'prepare.sh')} type1 && node ${root}/dist/examples/l2fwd/main.js -l 0 -a $PKTIO_VM_PORT_A ` +
    `-a $PKTIO_VM_PORT_B -m 128 -- -T 0 > refuse.log 2>&1; echo l2fwd_rc=$?; cat refuse.log`);
  t.not(r.kv.l2fwd_rc, '0', 'l2fwd does not start');
  t.match(r.out, /legacy-only virtio device .*disable-modern=on/, 'and says the device is legacy-only');
});

// One boot of about half a minute on an idle host. An earlier run lost 52 of 4,005 frames before pktio's RX on a
// loaded host; the taps now queue 10,000 frames (run.sh) instead of 500 while QEMU does not read them. A CI run
// (2026-11-29) found 32 short at ns1 with every frame received by pktio, 2 s after the senders stopped; not
// reproduced in 8 runs (3 with the host's CPUs busy). The guest script now waits up to 15 s for ns1 to catch up,
// and run.sh prints each host tap's rx/tx packets and tx_dropped, so a loss says where it happened.
const mqSkip = missing ?? false;
t.test('multi-queue: two queue pairs through VIRTIO_NET_CTRL_MQ, both carrying traffic (testpmd --rxq=2 --txq=2)', { skip: mqSkip, timeout: 600000 }, async (t) => {
  const r = await runInGuest({ mode: 'type1', nic: 'virtio', mq: 2, timeoutSec: 400 }, `bash ${path.join(guestDir, 'virtio-mq.sh')} type1`);
  showGuestOnFailure(t, r);
  t.equal(r.kv.testpmd_started, '1', 'testpmd started on two virtio ports with 2 queues each');
  t.equal(r.kv.ping_rc, '0', 'ping crosses');
  t.equal(r.kv.testpmd_rc, '0', 'testpmd exits 0');
  const n = (k: string) => Number(r.kv[k] ?? 0);
  t.ok(n('stream_rx0_q0') > 0 && n('stream_rx0_q1') > 0, `port 0 received on both queues (${n('stream_rx0_q0')}, ${n('stream_rx0_q1')})`);
  // exact over one window of kernel counters (testpmd's count from its start also holds frames from before it): each
  // frame ns0 sent reached ns1 or is one testpmd counted as dropped, a burst port 1's full TX ring refused (io mode
  // without retry, as DPDK's testpmd); a few such bursts are allowed on a busy host, a frame unaccounted for is not
  t.ok(n('ns0_tx_delta') >= 4003, `ns0 sent the 8 x 500 datagrams and 3 pings (${n('ns0_tx_delta')} frames)`);
  const dropped = n('port1_tx_dropped');
  t.equal(n('ns1_rx_delta') + dropped, n('ns0_tx_delta'), `every frame ns0 sent reached ns1 or was counted as dropped (${n('ns0_tx_delta')} sent, ${n('ns1_rx_delta')} received, ${dropped} dropped)`);
  t.ok(dropped <= 128, `at most 4 bursts refused (${dropped} frames)`);
  t.ok(n('stream_rx0_q0') + n('stream_rx0_q1') >= n('ns0_tx_delta'), 'port 0 received each of them');
  // where a loss would be: tpb rx (frames pktio's port 1 gave QEMU) against tkb tx (frames for ns1's NIC), a tap
  // queue that overflowed while QEMU did not read it (counts include start-up)
  t.comment(Object.entries(r.kv).filter(([k]) => /^host_t/.test(k)).map(([k, v]) => `${k}=${v}`).join(' '));
});
