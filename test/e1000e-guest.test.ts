// net_e1000e end to end on a real (emulated) 82574 through VFIO: runs in the QEMU guest only, skipped elsewhere.
//
//   PKTIO_E1000E_BDF=0000:00:03.0 PKTIO_E1000E_PEER_IF=ens4 [PKTIO_E1000E_EAL="--no-huge -m 64"] \
//     npx tap test/e1000e-guest.test.ts
//
// Needs root, the e1000e at BDF bound to vfio-pci (IOMMU on, or EAL option --vfio-noiommu with hugepages), and a
// second NIC owned by the kernel (PEER_IF) on the same QEMU hub/netdev. TX: broadcast frames from pktio must raise
// the peer's rx_packets. RX: the peer's ARP requests (ping to an absent address) must arrive through pktio.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const bdf = process.env.PKTIO_E1000E_BDF;
const peer = process.env.PKTIO_E1000E_PEER_IF;

function sh(cmd: string, ...args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? '');
  }
}

function peerStat(name: string): number {
  return Number(readFileSync(`/sys/class/net/${peer}/statistics/${name}`, 'utf8').trim());
}

t.test('e1000e through VFIO', { skip: !bdf || !peer ? 'guest only: set PKTIO_E1000E_BDF and PKTIO_E1000E_PEER_IF' : false }, async (t) => {
  const p = await import('../src/index.js');
  const eal = (process.env.PKTIO_E1000E_EAL ?? '--no-huge -m 64').split(/\s+/).filter(Boolean);
  await p.init(['-l', '0', '--log-level', 'warn', '-a', bdf!, ...eal]);
  t.teardown(async () => {
    p.closeAllPorts();
    p.vfioState()?.close();
    await p.ealCleanup();
  });
  const port = p.portByName(bdf!);
  const mac = p.macAddrGet(port);
  t.match(p.formatMac(mac), /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, `MAC ${p.formatMac(mac)}`);
  const pool = p.pktmbufPoolCreate('e1k_guest', 2047, 32);
  p.devConfigure(port, 1, 1);
  p.rxQueueSetup(port, 0, 256, 0, null, pool);
  p.txQueueSetup(port, 0, 256, 0, null);
  p.devStart(port);
  const link = p.linkGet(port, true);
  t.ok(link.up, `link up (${link.speed} Mb/s)`);

  sh('ip', 'link', 'set', peer!, 'up');
  const peerMac = readFileSync(`/sys/class/net/${peer}/address`, 'utf8').trim();

  // TX: 8 broadcast frames of a local experimental ethertype
  const before = peerStat('rx_packets');
  const m = new Uint32Array(8);
  t.ok(p.pktmbufAllocBulk(pool, m, 8, 0));
  for (let i = 0; i < 8; i++) {
    const f = new Uint8Array(64);
    f.fill(0xff, 0, 6);
    f.set(mac, 6);
    f[12] = 0x88;
    f[13] = 0xb5;
    f[14] = i;
    p.mbuf.append(m[i], f.length);
    p.mbuf.writeData(m[i], f);
  }
  let sent = 0;
  for (let tries = 0; sent < 8 && tries < 100; tries++) sent += p.txBurst(port, 0, m, 8 - sent, sent);
  t.equal(sent, 8, 'eight frames queued');
  await new Promise((r) => setTimeout(r, 500));
  const after = peerStat('rx_packets');
  t.ok(after - before >= 8, `peer ${peer} rx_packets +${after - before}`);

  // RX: the peer ARPs for an address nobody has
  sh('ip', 'addr', 'add', '10.199.0.1/24', 'dev', peer!);
  sh('ping', '-c', '3', '-i', '0.3', '-W', '1', '10.199.0.2');
  const rx = new Uint32Array(64);
  let arp = 0;
  let total = 0;
  for (let tries = 0; tries < 50 && arp === 0; tries++) {
    const n = p.rxBurst(port, 0, rx, 64);
    for (let i = 0; i < n; i++) {
      const b = p.mbuf.packetBytes(rx[i]);
      const src = p.formatMac(b.subarray(6, 12));
      if (b[12] === 0x08 && b[13] === 0x06 && src === peerMac) arp++;
    }
    total += n;
    p.pktmbufFreeBulk(rx, n, 0);
    if (arp === 0) await new Promise((r) => setTimeout(r, 100));
  }
  sh('ip', 'addr', 'del', '10.199.0.1/24', 'dev', peer!);
  t.ok(arp > 0, `received ${arp} ARP request(s) from ${peerMac} (${total} frames in all)`);

  const s = p.statsGet(port);
  t.ok(s.opackets >= 8, `hardware opackets ${s.opackets}`);
  t.ok(s.ipackets >= arp, `hardware ipackets ${s.ipackets}`);
  t.ok(p.xstatsGet(port).some((x) => x.name === 'tx_broadcast_packets' && x.value >= 8), 'tx_broadcast_packets');

  p.devStop(port);
  t.equal(pool.availCount(), pool.size, 'every mbuf back after stop');
  p.devClose(port);
});
