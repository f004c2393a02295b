// What the VM tests check of a guest's KEY=VALUE output, one function per guest script, so a test can run several
// scripts in one guest (guest/nic-suite.sh prefixes each one's keys with its name).
import * as os from 'node:os';
import type { Test } from 'tap';
import type { VmMode } from './vm.js';

type Kv = Record<string, string>;

/** guest/l2fwd-e2e.sh: l2fwd bridges ns0 and ns1 through pktio's ports A and B. */
export function checkL2fwd(t: Test, k: Kv, out: string, o: { mode: VmMode; ports: string[]; jumbo: boolean; virtio?: { packed: boolean } }): void {
  const n = (x: string) => Number(k[x]);
  const count = o.jumbo ? 1000 : 10000;
  t.equal(k.l2fwd_started, '1', 'l2fwd started with both VFIO ports');
  t.comment(`seconds into the phase: l2fwd forwarding ${k.secs_started}, UDP done ${k.secs_udp}, l2fwd stopped ${k.secs_stopped}, ` +
    `NICs read back ${k.secs_readback}`);
  t.equal(k.iommu, { type1: 'type1', noiommu: 'noiommu', cdev: 'iommufd' }[o.mode], 'IOMMU backend');
  t.equal(k.flow, o.mode === 'cdev' ? 'cdev' : 'legacy', 'VFIO flow');
  t.equal(k.iova, o.mode === 'noiommu' ? 'pa' : 'va', 'IOVA mode');
  if (o.virtio) t.equal(k.rings, o.virtio.packed ? 'packed,packed' : 'split,split', 'the ring layout both ports negotiated');
  t.equal(k.ping_rc, '0', 'ping between the namespaces through pktio');
  if (o.jumbo) t.equal(k.ping_jumbo_rc, '0', 'a 9000-byte IP packet with DF crosses (ping -s 8972 -M do)');
  t.equal(k.sent, String(count), 'UDP datagrams sent from ns0');
  t.equal(n('pktio_port0_rx'), n('ns0_tx_packets'), 'pktio port 0 received what ns0\'s NIC sent');
  // QEMU's virtio-net transmits a queue in a bottom half of its main loop, after the guest's kick, and its TX queue
  // holds at most 256 descriptors (more only with vhost-user). When that loop is late (a busy host), the ring is still
  // full when l2fwd's next burst comes and l2fwd frees the burst and counts it as dropped, as DPDK's l2fwd does. The
  // Intel models transmit inside the doorbell write, so there l2fwd never finds its ring full and drops nothing.
  // Either way every frame is accounted for: sent on port 1 or counted as dropped, and each datagram missing at ns1
  // is one of those.
  // How late that loop is depends on the host: with a CPU free, 0 in 56 guests and 32 (one burst) in 2; beside more
  // runnable threads than CPUs (the unit suite and other guests at a load of 6 to 7 on 2 CPUs), 110, 416 and 647 of
  // 10,000. So the 1% bound holds when the host has a CPU to spare; on a busier host the check is that the ring keeps
  // being reclaimed (a TX path that stopped reclaiming would refuse all but the first 256 frames).
  const dropped = o.virtio ? n('pktio_port1_drop') : 0;
  if (o.virtio) {
    const load = os.loadavg()[0];
    t.comment(`frames port 1's TX ring refused (l2fwd's drops): ${dropped}, host load ${load.toFixed(1)} on ${os.cpus().length} CPUs`);
    if (load < os.cpus().length) t.ok(dropped <= count / 100, `at most 1% refused by a full virtio TX ring (${dropped})`);
    else t.ok(dropped <= count / 4, `at most a quarter refused by a full virtio TX ring on a busy host (${dropped})`);
  }
  t.equal(n('pktio_port1_tx') + dropped, n('pktio_port0_rx'), o.virtio
    ? 'pktio port 1 sent every frame port 0 received, or counted it as dropped'
    : 'pktio port 1 sent every frame port 0 received');
  t.equal(n('received'), n('intact'), 'every datagram that arrived is intact');
  if (!o.jumbo) {
    t.equal(n('ns1_udp_in') + dropped, count, o.virtio
      ? `all ${count} arrive in ns1's UDP stack but those l2fwd counted as dropped`
      : `all ${count} arrive in ns1's UDP stack`);
    t.equal(n('received'), n('ns1_udp_in'), 'and reach the receiving socket');
    t.equal(n('pktio_port1_tx'), n('ns1_rx_packets'), 'pktio port 1 sent what ns1\'s NIC received');
  } else {
    // Jumbo frames that pktio's NIC transmitted (its counter has them) now and then fail to reach ns1's kernel NIC:
    // 1 to 3 per 1,000 in some runs, with e1000e and igb, in QEMU's receive path of the kernel's NIC (it drops a
    // frame that finds too few free descriptors for all of it). Open in the closing note of the Intel issue; until
    // it is understood the shortfall there is reported and bounded, and pktio's own side is checked exactly.
    const lost = n('pktio_port1_tx') - n('ns1_rx_packets');
    t.comment(`jumbo frames lost between pktio port 1 and ns1's NIC: ${lost}`);
    t.ok(lost >= 0 && lost <= count / 100, `at most 1% lost after pktio's TX (${lost})`);
    t.equal(n('received'), n('ns1_udp_in'), 'what ns1\'s UDP stack got reached the socket');
    t.ok(n('received') >= count - count / 100, `at least 99% of ${count} datagrams delivered (${n('received')})`);
  }
  t.equal(n('pktio_port1_rx'), n('ns1_tx_packets'), 'reverse direction, port 1 rx');
  t.equal(n('pktio_port0_tx'), n('ns0_rx_packets'), 'reverse direction, port 0 tx');
  t.ok(n('pktio_port0_rx') >= count + 3, 'the datagrams and pings went through port 0');
  t.equal(n('pktio_port0_drop') + n('pktio_port1_drop') - dropped, 0, o.virtio ? 'no other drops' : 'no drops');
  t.equal(k.l2fwd_rc, '0', 'l2fwd exits 0 after SIGINT');
  t.equal(k.l2fwd_bye, '1', 'l2fwd printed its final statistics and exited cleanly');
  t.notOk(k.mbufs_lost, 'every mbuf back in its pool');
  for (const bdf of o.ports) {
    if (o.virtio) {
      const v = new RegExp(`readback ${bdf} busmaster=(\\d) device_status=(\\d+)`).exec(out);
      t.same(v?.slice(1), ['0', '0'], `${bdf}: bus mastering off, the virtio device reset (device_status 0)`);
      continue;
    }
    const m = new RegExp(`readback ${bdf} busmaster=(\\d) rctl_en=(\\d) tctl_en=(\\d)`).exec(out);
    t.ok(m, `read back ${bdf}`);
    t.same(m?.slice(1), ['0', '0', '0'], `${bdf}: bus mastering off, receive and transmit disabled`);
  }
}

/**
 * guest/nic-features.sh: RSS over 4 queues (every packet on the queue a software Toeplitz with the same key and RETA
 * predicts, the mbuf's hash equal to it, per-queue counters adding up), RX checksum status for frames corrupted on a
 * raw socket, VLAN strip with the TCI in the mbuf, TX VLAN insert and TX IPv4/UDP checksum offload.
 */
export function checkFeatures(t: Test, k: Kv): void {
  const n = (x: string) => Number(k[x]);
  t.equal(k.app_ready, '1', 'the pktio app started');
  t.equal(k.link_up, '1', 'link up');
  t.equal(k.app_rc, '0', 'and exited 0');
  t.equal(n('rss_sent'), 1024, 'RSS: 256 flows x 4 frames sent');
  t.equal(n('rss_checked'), 1024, 'all received');
  t.equal(n('rss_flows'), 256, 'from 256 flows');
  t.equal(n('rss_queue_mismatch'), 0, 'each on the queue the software Toeplitz + RETA predicts');
  t.equal(n('rss_no_hash'), 0, 'each with an RSS hash');
  t.equal(n('rss_hash_mismatch'), 0, 'equal to the software hash');
  t.equal(n('queues_used'), 4, 'all four queues used');
  t.equal(n('stats_q_sum'), n('stats_ipackets'), 'per-queue counters add up to the port\'s');
  t.equal(n('per_queue_sum'), n('stats_q_sum'), 'and to what the app received');
  t.equal(n('kind_G_n'), 50, 'good frames');
  t.equal(n('kind_G_ipGood'), 50, 'IP checksum good');
  t.equal(n('kind_G_l4Good'), 50, 'UDP checksum good');
  t.equal(n('kind_I_n'), 50, 'frames with a corrupted IPv4 header checksum');
  t.equal(n('kind_I_ipBad'), 50, 'flagged IP checksum bad');
  t.equal(n('kind_U_n'), 50, 'frames with a corrupted UDP checksum');
  t.equal(n('kind_U_ipGood'), 50, 'their IP checksum good');
  t.equal(n('kind_U_l4Bad'), 50, 'flagged L4 checksum bad');
  t.equal(n('kind_V_n'), 50, 'tagged frames');
  t.equal(n('kind_V_stripped'), 50, 'arrive stripped');
  t.equal(n('kind_V_tci100'), 50, 'with TCI 100 in the mbuf');
  t.equal(n('tx_vlan_sent'), 100, 'tagged datagrams sent');
  t.equal(n('vlan_received'), 100, 'all reach the socket on ns0\'s eth0.100 (TX VLAN insert)');
  t.equal(n('vlan_intact'), 100, 'intact');
  t.equal(n('tx_csum_sent'), 100, 'checksum-offloaded datagrams sent');
  t.equal(n('csum_received'), 100, 'all delivered (TX IPv4/UDP checksum offload)');
  t.equal(n('csum_intact'), 100, 'intact');
  t.equal(n('ns0_udp_csum_errors'), n('ns0_udp_csum_errors_before'), 'no UDP checksum errors in ns0');
  t.equal(n('ns0_ip_hdr_errors'), 0, 'no IP header errors in ns0');
  t.equal(n('mbufs_in_use_after_stop'), 0, 'every mbuf back after stop');
}

/** The keys of one phase of nic-suite.sh, without its prefix. */
export function phase(kv: Kv, name: string): Kv {
  const out: Kv = {};
  for (const [key, v] of Object.entries(kv)) if (key.startsWith(`${name}_`)) out[key.slice(name.length + 1)] = v;
  return out;
}
