// End to end in a QEMU guest, for each VFIO mode: examples/l2fwd bridges two e1000e ports driven by pktio;
// a kernel e1000e on each side (namespaces ns0, ns1) pings through it and sends 10,000 UDP datagrams;
// pktio's counters must match the kernel's, and after SIGINT the NICs must not DMA any more.
import t from 'tap';
import * as path from 'node:path';
import { rigMissing, runInGuest, guestDir, type VmMode } from './vm.js';

const missing = rigMissing();
// the last run: QEMU's default 39-bit vIOMMU, narrower than user addresses; pktio must map EAL memory low by itself
const runs: Array<{ mode: VmMode; awBits: number }> = [
  { mode: 'type1', awBits: 48 }, { mode: 'noiommu', awBits: 48 }, { mode: 'cdev', awBits: 48 }, { mode: 'type1', awBits: 39 },
];

for (const { mode, awBits } of runs) {
  t.test(`l2fwd over VFIO ${mode}${awBits !== 48 ? ` with a ${awBits}-bit IOMMU` : ''}`, { skip: missing ?? false, timeout: 400000 }, async (t) => {
    const r = await runInGuest({ mode, awBits, timeoutSec: 300 }, `bash ${path.join(guestDir, 'l2fwd-e2e.sh')} ${mode}`);
    const k = r.kv;
    const n = (x: string) => Number(k[x]);
    t.equal(r.code, 0, 'guest script exit status');
    t.equal(k.l2fwd_started, '1', 'l2fwd started with both VFIO ports');
    t.equal(k.iommu, { type1: 'type1', noiommu: 'noiommu', cdev: 'iommufd' }[mode], 'IOMMU backend');
    t.equal(k.flow, mode === 'cdev' ? 'cdev' : 'legacy', 'VFIO flow');
    t.equal(k.iova, mode === 'noiommu' ? 'pa' : 'va', 'IOVA mode');
    t.equal(k.ping_rc, '0', 'ping between the namespaces through pktio');
    t.equal(k.sent, '10000', 'UDP datagrams sent from ns0');
    t.equal(n('ns1_udp_in'), 10000, 'all 10,000 arrive in ns1\'s UDP stack');
    t.equal(n('received'), 10000, 'and reach the receiving socket');
    t.equal(n('pktio_port0_rx'), n('ns0_tx_packets'), 'pktio port 0 received what ns0\'s NIC sent');
    t.equal(n('pktio_port1_tx'), n('ns1_rx_packets'), 'pktio port 1 sent what ns1\'s NIC received');
    t.equal(n('pktio_port1_rx'), n('ns1_tx_packets'), 'reverse direction, port 1 rx');
    t.equal(n('pktio_port0_tx'), n('ns0_rx_packets'), 'reverse direction, port 0 tx');
    t.ok(n('pktio_port0_rx') >= 10003, 'the burst went through port 0');
    t.equal(n('pktio_port0_drop') + n('pktio_port1_drop'), 0, 'no drops');
    t.equal(k.l2fwd_rc, '0', 'l2fwd exits 0 after SIGINT');
    t.equal(k.l2fwd_bye, '1', 'l2fwd printed its final statistics and exited cleanly');
    t.notOk(k.mbufs_lost, 'every mbuf back in its pool');
    for (const bdf of ['0000:00:03.0', '0000:00:04.0']) {
      const m = new RegExp(`readback ${bdf} busmaster=(\\d) rctl_en=(\\d) tctl_en=(\\d)`).exec(r.out);
      t.ok(m, `read back ${bdf}`);
      t.same(m?.slice(1), ['0', '0', '0'], `${bdf}: bus mastering off, receive and transmit disabled`);
    }
    if (r.code !== 0 || t.passing() === false) t.comment(r.out.slice(-4000));
  });
}
