// In the guest (compiled: dist/test/vm/guest/nic-features.js): one pktio port with 4 RX/TX queues, RSS over IPv4 and UDP/IPv4, RX checksum
// and VLAN strip, TX VLAN insert and IPv4/UDP checksum offload. Phase 1 receives what rawsend.py sends for
// checks every packet until it has the EXPECT_FRAMES datagrams rawsend.py sends (or RX_SECONDS pass: a deadline,
// not a window, so a slow sender on a loaded host is waited for); phase 2 sends tagged and checksum-offloaded
// datagrams to ns0.
//   EXPECT_FRAMES=N nic-features.ts BDF RX_SECONDS [EAL flags...]
// Prints KEY=VALUE lines (test/vm/features.vm.ts reads them).
import * as pktio from '../../../src/index.js';
import { mbuf } from '../../../src/index.js';
import { toeplitz, ipv4Tuple } from '../../../src/pmd/intel/common/rss.js';

const [bdf, secs, ...eal] = process.argv.slice(2);
const NQ = 4;
const { config } = await pktio.init(['-l', '0', '-a', bdf, '-m', '128', '--log-level', 'warn', ...eal]);
void config;
const out = (k: string, v: unknown) => console.log(`${k}=${v}`);
const pool = pktio.pktmbufPoolCreate('feat_pool', 8191, 256, 0, pktio.MBUF_DEFAULT_BUF_SIZE);
const hf = pktio.RSS_IPV4 | pktio.RSS_NONFRAG_IPV4_UDP;
pktio.devConfigure(0, NQ, NQ, {
  rxmode: { mqMode: 'rss', offloads: pktio.RX_OFFLOAD_CHECKSUM | pktio.RX_OFFLOAD_VLAN_STRIP | pktio.RX_OFFLOAD_RSS_HASH },
  rxAdvConf: { rssConf: { hf } },
  txmode: { offloads: pktio.TX_OFFLOAD_VLAN_INSERT | pktio.TX_OFFLOAD_IPV4_CKSUM | pktio.TX_OFFLOAD_UDP_CKSUM },
});
for (let q = 0; q < NQ; q++) {
  pktio.rxQueueSetup(0, q, 512, -1, null, pool);
  pktio.txQueueSetup(0, q, 512, -1, null);
}
pktio.devStart(0);
out('link_up', pktio.linkGet(0, true).up ? 1 : 0);
const { key } = pktio.rssHashConfGet(0);
const reta = pktio.retaQuery(0);
out('ready', 1);

// ---- phase 1: receive and check -----------------------------------------------------------------------------
interface Kind { n: number; ipGood: number; ipBad: number; l4Good: number; l4Bad: number; stripped: number; tci100: number }
const kinds = new Map<string, Kind>();
const kind = (k: string): Kind => {
  let x = kinds.get(k);
  if (!x) kinds.set(k, (x = { n: 0, ipGood: 0, ipBad: 0, l4Good: 0, l4Bad: 0, stripped: 0, tci100: 0 }));
  return x;
};
const perQueue = new Array(NQ).fill(0);
const flowsSeen = new Set<number>();
let rssChecked = 0;
let queueMismatch = 0;
let hashMismatch = 0;
let noHash = 0;
const burst = new Uint32Array(32);
const u8 = pktio.mem().u8;
const end = Date.now() + Number(secs) * 1000;
const expected = Number(process.env.EXPECT_FRAMES ?? Infinity);
let udpSeen = 0;
while (Date.now() < end && udpSeen < expected) {
  for (let q = 0; q < NQ; q++) {
    const n = pktio.rxBurst(0, q, burst, 32);
    for (let i = 0; i < n; i++) {
      const m = burst[i];
      perQueue[q]++;
      const d = mbuf.mtod(m);
      const eth = (u8[d + 12] << 8) | u8[d + 13];
      if (eth !== 0x0800 || u8[d + 23] !== 17) continue; // IPv4 UDP only
      udpSeen++;
      const src = `${u8[d + 26]}.${u8[d + 27]}.${u8[d + 28]}.${u8[d + 29]}`;
      const dst = `${u8[d + 30]}.${u8[d + 31]}.${u8[d + 32]}.${u8[d + 33]}`;
      const sport = (u8[d + 34] << 8) | u8[d + 35];
      const dport = (u8[d + 36] << 8) | u8[d + 37];
      const k = kind(String.fromCharCode(u8[d + 42]));
      const ol = mbuf.olFlags(m);
      k.n++;
      if (ol & mbuf.RX_IP_CKSUM_GOOD) k.ipGood++;
      if (ol & mbuf.RX_IP_CKSUM_BAD) k.ipBad++;
      if (ol & mbuf.RX_L4_CKSUM_GOOD) k.l4Good++;
      if (ol & mbuf.RX_L4_CKSUM_BAD) k.l4Bad++;
      if (ol & mbuf.RX_VLAN_STRIPPED) k.stripped++;
      if ((ol & mbuf.RX_VLAN_STRIPPED) && (mbuf.vlanTci(m) & 0xfff) === 100) k.tci100++;
      if (u8[d + 42] === 0x52) { // 'R': an RSS flow
        rssChecked++;
        flowsSeen.add(sport);
        const h = toeplitz(key, ipv4Tuple(src, dst, sport, dport));
        if ((ol & mbuf.RX_RSS_HASH) === 0) noHash++;
        else if (mbuf.rssHash(m) !== h) hashMismatch++;
        if (reta[h & (reta.length - 1)] !== q) queueMismatch++;
      }
    }
    if (n > 0) pktio.pktmbufFreeBulk(burst, n, 0);
  }
}
const st = pktio.statsGet(0);
out('rss_checked', rssChecked);
out('rss_flows', flowsSeen.size);
out('rss_queue_mismatch', queueMismatch);
out('rss_hash_mismatch', hashMismatch);
out('rss_no_hash', noHash);
out('queues_used', perQueue.filter((x) => x > 0).length);
out('per_queue', perQueue.join(','));
out('per_queue_sum', perQueue.reduce((a, b) => a + b, 0));
out('stats_q_sum', st.qIpackets.reduce((a, b) => a + b, 0));
out('stats_ipackets', st.ipackets);
for (const [k, x] of kinds) {
  for (const [f, v] of Object.entries(x)) out(`kind_${k}_${f}`, v);
}

// ---- phase 2: TX VLAN insert and checksum offload to ns0 ---------------------------------------------------------
const ns0Mac = (process.env.NS0_MAC ?? '').split(':').map((h) => parseInt(h, 16));
const myMac = pktio.macAddrGet(0);
/** A UDP/IPv4 datagram from 10.99.x.2:7000 to 10.99.x.1:port, IP checksum 0, UDP checksum field seeded with the
 * pseudo-header sum (what the NIC's L4 offload expects, DPDK's rte_ipv4_phdr_cksum). */
function udpFrame(m: number, net: number, port: number, seq: number): void {
  const len = 14 + 20 + 8 + 32;
  const at = mbuf.append(m, len);
  const b = u8.subarray(at, at + len);
  b.set(ns0Mac, 0);
  b.set(myMac, 6);
  b.set([0x08, 0x00], 12);
  b.set([0x45, 0, 0, 60, seq >> 8, seq & 0xff, 0x40, 0, 64, 17, 0, 0, 10, 99, net, 2, 10, 99, net, 1], 14);
  const udpLen = 8 + 32;
  b.set([7000 >> 8, 7000 & 0xff, port >> 8, port & 0xff, 0, udpLen, 0, 0], 34);
  // udp.mjs's payload: a sequence number, then bytes it checks
  b.set([0, 0, seq >> 8, seq & 0xff], 42);
  for (let i = 4; i < 32; i++) b[42 + i] = (i * 31 + 7) & 0xff;
  // pseudo header: src, dst, proto, UDP length (one's complement sum, not inverted)
  let s = (10 << 8 | 99) + (net << 8 | 2) + (10 << 8 | 99) + (net << 8 | 1) + 17 + udpLen;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  b[40] = s >> 8;
  b[41] = s & 0xff;
  mbuf.setTxLens(m, 14, 20, 8);
}
const tx = new Uint32Array(1);
let vlanSent = 0;
let csumSent = 0;
for (let i = 0; i < 100; i++) {
  // tagged: VLAN 100 inserted by the NIC, to ns0's eth0.100 (10.99.100.1); checksums offloaded too
  tx[0] = pktio.pktmbufAlloc(pool);
  udpFrame(tx[0], 100, 9997, i);
  mbuf.setOlFlags(tx[0], mbuf.TX_VLAN | mbuf.TX_IPV4 | mbuf.TX_IP_CKSUM | mbuf.TX_UDP_CKSUM);
  mbuf.setVlanTci(tx[0], 100);
  vlanSent += pktio.txBurst(0, i % NQ, tx, 1);
  // untagged, checksums offloaded, to 10.99.0.1
  tx[0] = pktio.pktmbufAlloc(pool);
  udpFrame(tx[0], 0, 9998, i);
  mbuf.setOlFlags(tx[0], mbuf.TX_IPV4 | mbuf.TX_IP_CKSUM | mbuf.TX_UDP_CKSUM);
  csumSent += pktio.txBurst(0, i % NQ, tx, 1);
  await new Promise((r) => setTimeout(r, 5));
}
out('tx_vlan_sent', vlanSent);
out('tx_csum_sent', csumSent);
await new Promise((r) => setTimeout(r, 1000));
pktio.devStop(0);
out('mbufs_in_use_after_stop', pool.inUseCount());
await pktio.cleanup();
out('done', 1);
