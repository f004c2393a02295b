// net_igb against a simulated 82576 (test/helpers/igb-sim.ts): the real driver code (control half through ethdev,
// data half attached from the JSON queue specs) on a register file whose resets, queue enables, MDIC and link
// behave as the datasheet and QEMU's igb say, with advanced RX write-back and TX descriptor processing.
// Covered: bring-up order, queue enables polled before tails, RX and TX bursts with one doorbell per burst, ring
// wrap-around, RSS over 4 queues against a software Toeplitz, RETA and key updates, checksum flags good and bad,
// packet types, VLAN strip and insert, TX checksum offload, jumbo frames as chains both ways, multi-queue TX,
// per-queue start/stop, MAC filters, promiscuous / all-multicast, hardware statistics and xstats, stop returning
// every mbuf, close with the NIC reset and bus mastering off; the I210's variant (4 queues, 16 filters, DVMOLR).
import t from 'tap';
import { txFuzz } from './helpers/tx-fuzz.js';
import { ealInit, ealCleanup, mem } from '../src/eal/index.js';
import {
  pktmbufPoolCreate, pktmbufAllocBulk, pktmbufFreeBulk, writeData, append, pktLen, dataLen, nbSegs, next, packetBytes,
  olFlags, setOlFlags, vlanTci, setVlanTci, setTxLens, rssHash, packetType, port as mbufPort, dataIova, chain,
  RX_VLAN, RX_VLAN_STRIPPED, RX_IP_CKSUM_GOOD, RX_IP_CKSUM_BAD, RX_L4_CKSUM_GOOD, RX_L4_CKSUM_BAD, RX_RSS_HASH,
  TX_VLAN, TX_IPV4, TX_IP_CKSUM, TX_TCP_CKSUM, TX_UDP_CKSUM, PTYPE_L2_ETHER, PTYPE_L3_IPV4, PTYPE_L3_IPV6,
  PTYPE_L4_TCP, PTYPE_L4_UDP, type Mempool,
} from '../src/mempool/mbuf.js';
import {
  ethDevAllocate, devConfigure, rxQueueSetup, txQueueSetup, devStart, devStop, devClose, rxBurst, txBurst, statsGet,
  statsReset, xstatsGet, macAddrGet, formatMac, promiscuousEnable, promiscuousDisable, allmulticastEnable,
  allmulticastDisable, linkGet, devInfoGet, rssHashUpdate, retaUpdate, retaQuery, rssHashConfGet, mtuSet,
  macAddrAdd, macAddrRemove, rxQueueStart, rxQueueStop, txQueueStart, txQueueStop,
} from '../src/ethdev/ethdev.js';
import {
  RX_OFFLOAD_CHECKSUM, RX_OFFLOAD_VLAN_STRIP, RX_OFFLOAD_RSS_HASH, TX_OFFLOAD_VLAN_INSERT, TX_OFFLOAD_IPV4_CKSUM,
  TX_OFFLOAD_TCP_CKSUM, TX_OFFLOAD_UDP_CKSUM, TX_OFFLOAD_MULTI_SEGS, RSS_IPV4, RSS_NONFRAG_IPV4_TCP,
  RSS_NONFRAG_IPV4_UDP, RSS_IPV6, RSS_NONFRAG_IPV6_TCP, RSS_NONFRAG_IPV6_UDP, RSS_IPV6_EX, RSS_IPV6_TCP_EX,
  RSS_IPV6_UDP_EX, type EthConf, type RxConf,
} from '../src/pmd/driver.js';
import { pmd as igbPmd } from '../src/pmd/intel/igb/igb.js';
import * as R from '../src/pmd/intel/igb/regs.js';
import { DEFAULT_RSS_KEY, defaultReta, toeplitz } from '../src/pmd/intel/common/rss.js';
import { setPciAccessProvider } from '../src/pmd/pci/access.js';
import type { Vfio } from '../src/vfio/index.js';
import { intelDataPlane } from '../src/pmd/intel/common/pmd.js';
import { IgbSim, spyDoorbells, flowFrame, parse, pseudoHeaderSum, type FlowSpec } from './helpers/igb-sim.js';

const BDF = '0000:00:04.0';
const NB = 64;
const POOL_N = 2047;
const MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const ALL_HF = RSS_IPV4 | RSS_NONFRAG_IPV4_TCP | RSS_NONFRAG_IPV4_UDP | RSS_IPV6 | RSS_NONFRAG_IPV6_TCP |
  RSS_NONFRAG_IPV6_UDP | RSS_IPV6_EX | RSS_IPV6_TCP_EX | RSS_IPV6_UDP_EX;

/** A broadcast frame of an experimental EtherType, its bytes a pattern of `seed`. */
function raw(len: number, seed: number, dst = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]): Uint8Array {
  const f = new Uint8Array(len);
  for (let i = 0; i < len; i++) f[i] = (i * 7 + seed) & 0xff;
  f.set(dst, 0);
  f.set([0x88, 0xb5], 12);
  return f;
}

const ip4 = (i: number): number[] => [10, (i >> 8) & 0xff, i & 0xff, 1];
const ip6 = (i: number): number[] => [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (i >> 8) & 0xff, i & 0xff];

t.test('igb on a simulated 82576', async (t) => {
  await ealInit(['--no-huge', '-m', '64', '-l', '0']);
  t.teardown(ealCleanup);
  const pool: Mempool = pktmbufPoolCreate('igb_pool', POOL_N, 32);
  const sim = new IgbSim('igb_sim_bar', { mac: MAC, autonegMs: 300 });
  setPciAccessProvider((bdf) => sim.access(bdf));
  t.teardown(() => setPciAccessProvider(null));

  const t0 = Date.now();
  const ops = igbPmd.probePci!(BDF, null as unknown as Vfio);
  const probeMs = Date.now() - t0;
  const probeLog = sim.log.slice();
  const port = ethDevAllocate(BDF, ops, igbPmd);

  /** Index in `log` of the first entry from `from` on that matches. */
  const find = (log: IgbSim['log'], pred: (op: 'r' | 'w', off: number, v: number) => boolean, from = 0): number => {
    for (let i = from; i < log.length; i++) if (pred(log[i][0], log[i][1], log[i][2])) return i;
    return -1;
  };
  const w = (off: number, mask = 0, want = mask) => (op: string, o: number, v: number) => op === 'w' && o === off && ((v & mask) >>> 0) === want >>> 0;
  const rd = (off: number, mask = 0, want = mask) => (op: string, o: number, v: number) => op === 'r' && o === off && ((v & mask) >>> 0) === want >>> 0;

  /** Stops the port, configures it afresh and starts it. */
  function setup(nbRx: number, nbTx: number, conf: EthConf = {}, rxConf: (q: number) => RxConf | null = () => null): void {
    devStop(port);
    devConfigure(port, nbRx, nbTx, conf);
    for (let q = 0; q < nbRx; q++) rxQueueSetup(port, q, NB, 0, rxConf(q), pool);
    for (let q = 0; q < nbTx; q++) txQueueSetup(port, q, NB, 0, null);
    devStart(port);
  }

  /** One mbuf holding `bytes`. */
  function mk(bytes: ArrayLike<number>): number {
    const m = new Uint32Array(1);
    if (!pktmbufAllocBulk(pool, m, 1, 0)) throw new Error('pool empty');
    append(m[0], bytes.length);
    writeData(m[0], bytes);
    return m[0];
  }

  /** Everything queue q has received, freed after `check` looked at each mbuf. */
  function drain(q: number, check: (m: number, i: number) => void = () => {}): number {
    const mb = new Uint32Array(32);
    let got = 0;
    for (let k; (k = rxBurst(port, q, mb, 32)) > 0;) {
      for (let i = 0; i < k; i++) check(mb[i], got + i);
      pktmbufFreeBulk(mb, k, 0);
      got += k;
    }
    return got;
  }

  t.test('probe: global reset, MAC, link set-up, in datasheet order', async (t) => {
    t.ok(probeMs < 1500, `reset and probe take ${probeMs} ms`);
    t.ok(igbPmd.pciIds!.some((p) => p.vendor === 0x8086 && p.device === 0x10c9), 'claims 8086:10c9 (82576)');
    t.ok(igbPmd.pciIds!.some((p) => p.device === 0x1521) && igbPmd.pciIds!.some((p) => p.device === 0x1533), 'and the I350 and I210');
    const L = probeLog;
    const gio = find(L, w(R.CTRL, R.CTRL_GIO_MASTER_DISABLE));
    const rst = find(L, w(R.CTRL, R.CTRL_RST));
    t.ok(gio >= 0 && rst > gio, 'GIO master disable before CTRL.RST');
    const before = (i: number) => i >= 0 && i < rst;
    const drained = find(L, rd(R.STATUS, R.STATUS_GIO_MASTER_ENABLE, 0), gio);
    t.ok(drained > gio && drained < rst, 'master requests seen drained (STATUS) before the reset');
    t.ok(before(find(L, w(R.IMC, 0xffffffff))) && before(find(L, w(R.EIMC, 0xffffffff))), 'interrupts masked (IMC, EIMC) before the reset');
    t.ok(before(find(L, w(R.RCTL, 0xffffffff, 0))), 'receiver off before the reset');
    t.ok(find(L, rd(R.EECD, R.EECD_AUTO_RD), rst) > rst, 'EECD.AUTO_RD waited for after it');
    t.ok(find(L, rd(R.EEMNGCTL, R.EEMNGCTL_CFG_DONE(0)), rst) > rst, 'EEMNGCTL.CFG_DONE of port 0 waited for');
    const imc2 = find(L, w(R.IMC, 0xffffffff), rst);
    t.ok(imc2 > rst && find(L, w(R.EIMC, 0xffffffff), rst) > rst, 'interrupts masked again after it');
    const slu = find(L, w(R.CTRL, R.CTRL_SLU), rst);
    t.ok(slu > imc2, 'then link set-up: CTRL.SLU');
    t.equal(sim.get(R.CTRL) & (R.CTRL_FRCSPD | R.CTRL_FRCDPX | R.CTRL_RST), 0, 'no forced speed or duplex, RST clear');
    const mdicW = find(L, (op, o, v) => op === 'w' && o === R.MDIC && (v & (3 << 26)) === R.MDIC_OP_WRITE);
    t.ok(mdicW > slu, 'a PHY write through MDIC follows');
    const cmd = L[mdicW][2];
    t.equal((cmd >>> R.MDIC_PHY_SHIFT) & 0x1f, 1, 'to PHY address 1');
    t.equal((cmd >>> R.MDIC_REG_SHIFT) & 0x1f, R.PHY_BMCR, 'register BMCR');
    t.equal(cmd & (R.BMCR_RESTART_AN | R.BMCR_AN_ENABLE), R.BMCR_RESTART_AN | R.BMCR_AN_ENABLE, 'autonegotiation enabled and restarted');
    t.ok(find(L, rd(R.MDIC, R.MDIC_READY), mdicW) > mdicW, 'MDIC.READY polled');
    const lock = find(L, w(R.SW_FW_SYNC, R.SWFW_PHY_SM(0)));
    t.ok(lock >= 0 && lock < mdicW, 'PHY taken in SW_FW_SYNC first');
    t.ok(find(L, w(R.SW_FW_SYNC, R.SWFW_PHY_SM(0), 0), mdicW) > mdicW, 'and given back after');
    t.equal(sim.macResets, 1, 'one MAC reset');
    t.equal(formatMac(macAddrGet(port)), '52:54:00:12:34:56', 'MAC from RAL0/RAH0');
    t.equal(sim.get(R.RAH(0)) >>> 31, 1, 'RAR0 valid');
    t.equal(sim.get(R.VET), 0x81008100, 'VLAN ether type');
    t.ok(sim.get(R.CTRL_EXT) & R.CTRL_EXT_DRV_LOAD, 'driver loaded (CTRL_EXT.DRV_LOAD)');
    for (let q = 0; q < 8; q++) {
      if ((sim.get(R.RXDCTL(q)) | sim.get(R.TXDCTL(q))) & R.XDCTL_ENABLE) t.fail(`queue ${q} left enabled`);
    }
    t.equal(sim.get(R.RCTL) & R.RCTL_EN, 0, 'receiver off');
    t.equal(linkGet(port, false).up, false, 'link down while autonegotiating');
    t.same(linkGet(port, true), { up: true, speed: 1000, fullDuplex: true, autoneg: true }, 'then up from STATUS');
    const info = devInfoGet(port);
    t.match(info, {
      driverName: 'net_igb', pciAddr: BDF, maxRxQueues: 8, maxTxQueues: 8, maxRxPktLen: 16383, maxMacAddrs: 24,
      retaSize: 128, hashKeySize: 40, flowTypeRssOffloads: ALL_HF, rxDescLim: { nbMax: 4096, nbAlign: 8 },
    });
    t.equal(info.rxOffloadCapa & (RX_OFFLOAD_CHECKSUM | RX_OFFLOAD_VLAN_STRIP | RX_OFFLOAD_RSS_HASH), RX_OFFLOAD_CHECKSUM | RX_OFFLOAD_VLAN_STRIP | RX_OFFLOAD_RSS_HASH);
    const txc = TX_OFFLOAD_VLAN_INSERT | TX_OFFLOAD_IPV4_CKSUM | TX_OFFLOAD_TCP_CKSUM | TX_OFFLOAD_UDP_CKSUM | TX_OFFLOAD_MULTI_SEGS;
    t.equal(info.txOffloadCapa & txc, txc);
  });

  t.test('start: advanced descriptors, queue enables read back before the tails', async (t) => {
    const from = sim.log.length;
    setup(1, 1);
    const L = sim.log;
    t.ok(sim.busMaster, 'bus mastering on');
    t.equal(sim.get(R.SRRCTL(0)), R.SRRCTL_DESCTYPE_ADV_ONEBUF | 2, 'SRRCTL: advanced one-buffer descriptors, 2 KiB buffers');
    t.equal(sim.get(R.RDLEN(0)), NB * 16);
    t.equal(sim.get(R.RDT(0)), NB - 1, 'RDT: every descriptor but one given to the NIC');
    t.equal(sim.get(R.RDBAL(0)) % 128, 0, 'ring aligned');
    t.equal(R.RDT(0), 0xc018, 'queue 0 in the 0xC000 block');
    t.notOk(L.slice(from).some(([, o]) => (o >= 0x2800 && o < 0x3000) || (o >= 0x3800 && o < 0x4000)), 'the 0x2800 / 0x3800 aliases untouched');
    const en = find(L, w(R.RXDCTL(0), R.XDCTL_ENABLE), from);
    const off1 = find(L, rd(R.RXDCTL(0), R.XDCTL_ENABLE, 0), en);
    const on = find(L, rd(R.RXDCTL(0), R.XDCTL_ENABLE), en);
    const rctl = find(L, w(R.RCTL, R.RCTL_EN), from);
    const rdt = find(L, (op, o) => op === 'w' && o === R.RDT(0), on);
    t.ok(en > from && off1 > en && on > off1, 'RXDCTL.ENABLE written, then polled until it reads back set');
    t.ok(rctl > on && rdt > rctl, 'receiver enabled, then RDT written');
    t.equal(L[rdt][2], NB - 1);
    const ten = find(L, w(R.TXDCTL(0), R.XDCTL_ENABLE), from);
    const ton = find(L, rd(R.TXDCTL(0), R.XDCTL_ENABLE), ten);
    const tctl = find(L, w(R.TCTL, R.TCTL_EN), from);
    t.ok(ten > from && ton > ten && tctl > ton, 'TXDCTL.ENABLE read back before TCTL.EN');
    const rc = sim.get(R.RCTL);
    t.equal(rc & (R.RCTL_EN | R.RCTL_BAM | R.RCTL_SECRC), R.RCTL_EN | R.RCTL_BAM | R.RCTL_SECRC, 'RCTL: on, broadcast, CRC strip');
    t.equal(rc & (R.RCTL_LPE | R.RCTL_UPE | R.RCTL_MPE | R.RCTL_VFE | R.RCTL_SBP), 0, 'no long frames, not promiscuous');
    t.equal(sim.get(R.RLPML), 1522, 'RLPML = MTU + 22');
    const tc = sim.get(R.TCTL);
    t.equal(tc & (R.TCTL_EN | R.TCTL_PSP | R.TCTL_RTLC | R.TCTL_CT_MASK), R.TCTL_EN | R.TCTL_PSP | R.TCTL_RTLC | R.TCTL_CT_DEFAULT);
    t.equal(sim.get(R.TCTL_EXT) & R.TCTL_EXT_COLD_MASK, R.TCTL_EXT_COLD_DEFAULT, 'collision distance 63');
    t.equal(sim.get(R.TDLEN(0)), NB * 16);
    t.equal(sim.get(R.TDT(0)), 0);
    t.equal(sim.get(R.MRQC), 0, 'no RSS with one queue and mqMode none');
    t.ok(sim.get(R.RXCSUM) & R.RXCSUM_PCSD, 'RXCSUM.PCSD: w1 carries the RSS hash');
    t.equal(pool.availCount(), POOL_N - NB, 'RX ring filled from the pool');
  });

  t.test('RX burst: advanced write-back, one doorbell per NB / 4 descriptors, wrap-around', async (t) => {
    const lens = [60, 100, 1514];
    lens.forEach((l, i) => t.ok(sim.receive(raw(l, i)), `frame ${i} delivered`));
    const spy = spyDoorbells();
    const mbufs = new Uint32Array(32);
    const n = rxBurst(port, 0, mbufs, 32);
    spy.restore();
    t.equal(n, 3, 'three frames');
    t.same([...spy.counts.entries()], [], 'no register store yet: RDT waits for NB / 4 re-armed descriptors');
    for (let i = 0; i < n; i++) {
      t.equal(pktLen(mbufs[i]), lens[i], `pkt_len ${lens[i]}`);
      t.equal(dataLen(mbufs[i]), lens[i]);
      t.equal(nbSegs(mbufs[i]), 1);
      t.equal(mbufPort(mbufs[i]), port);
      t.equal(packetType(mbufs[i]), PTYPE_L2_ETHER, 'plain L2 packet type');
      t.same(packetBytes(mbufs[i]), raw(lens[i], i), `data of frame ${i}`);
    }
    pktmbufFreeBulk(mbufs, n, 0);
    for (let i = 0; i < 13; i++) sim.receive(raw(64, 100 + i));
    const spy2 = spyDoorbells();
    t.equal(drain(0), 13, 'thirteen more');
    spy2.restore();
    t.same([...spy2.counts.entries()], [[R.RDT(0), 1]], 'then exactly one register store: RDT');
    t.equal(sim.get(R.RDT(0)), 15, 'RDT = last re-armed descriptor');
    let got = 0;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 40; i++) sim.receive(raw(64 + (i % 3), round * 40 + i));
      got += drain(0, (m, i) => { if (pktLen(m) !== 64 + (i % 3)) t.fail(`bad length after wrap: ${pktLen(m)}`); });
    }
    t.equal(got, 200, '200 frames across three wraps of the ring');
    t.equal(pool.availCount(), POOL_N - NB, 'no mbuf lost');
    const before = statsGet(port).qErrors[0];
    sim.receive(raw(80, 1), { crcError: true });
    sim.receive(raw(90, 2));
    t.equal(drain(0, (m) => t.equal(pktLen(m), 90, 'only the good frame')), 1);
    t.equal(statsGet(port).qErrors[0] - before, 1, 'the CRC error counted, its buffer back in the pool');
    t.equal(pool.availCount(), POOL_N - NB);
  });

  t.test('TX burst: advanced data descriptors, one doorbell, reclaim, wrap-around', async (t) => {
    const r = mem();
    const m = new Uint32Array(64);
    for (let i = 0; i < 10; i++) m[i] = mk(raw(60 + i, 50 + i));
    const tail = sim.get(R.TDT(0));
    const spy = spyDoorbells();
    t.equal(txBurst(port, 0, m, 10, 0), 10);
    spy.restore();
    t.same([...spy.counts.entries()], [[R.TDT(0), 1]], 'exactly one register store: TDT');
    for (let i = 0; i < 10; i++) {
      const d = sim.txDesc(0, (tail + i) % NB);
      t.equal(r.u32[d], dataIova(m[i]) >>> 0, `desc ${i}: buffer address`);
      const w2 = r.u32[d + 2];
      t.equal(w2 & 0xffff, 60 + i, 'length');
      t.equal(w2 & (0xf << 20), R.TXD_DTYP_DATA, 'advanced data descriptor');
      t.equal(w2 & (R.TXD_CMD_DEXT | R.TXD_CMD_IFCS | R.TXD_CMD_EOP), (R.TXD_CMD_DEXT | R.TXD_CMD_IFCS | R.TXD_CMD_EOP) >>> 0);
      t.equal(r.u32[d + 3] >>> R.TXD_PAYLEN_SHIFT, 60 + i, 'PAYLEN');
    }
    const sent = sim.stepTx(0);
    t.equal(sent.length, 10);
    sent.forEach((f, i) => t.same(f.bytes, raw(60 + i, 50 + i), `frame ${i} on the wire`));
    // five times round the ring, a burst at a time
    const inUse = pool.inUseCount();
    let out = 0;
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 32; i++) m[i] = mk(raw(64, round * 32 + i));
      const k = txBurst(port, 0, m, 32, 0);
      if (k < 32) pktmbufFreeBulk(m, 32 - k, k);
      out += sim.stepTx(0).length;
    }
    t.equal(out, 320, '320 frames through a 64-descriptor ring');
    t.ok(pool.inUseCount() - inUse < NB, 'sent mbufs reclaimed a batch at a time');
    t.equal(sim.get(R.TDH(0)), sim.get(R.TDT(0)), 'the NIC caught up with the tail');
  });

  t.test('RSS over 4 queues: queues and hashes as a software Toeplitz predicts', async (t) => {
    setup(4, 4, { rxmode: { mqMode: 'rss', offloads: RX_OFFLOAD_CHECKSUM | RX_OFFLOAD_RSS_HASH }, rxAdvConf: { rssConf: { hf: ALL_HF } } });
    const mrqc = sim.get(R.MRQC);
    t.equal(mrqc & R.MRQC_ENABLE_MASK, R.MRQC_ENABLE_RSS, 'MRQC: RSS only');
    const fields = R.MRQC_IPV4 | R.MRQC_TCP_IPV4 | R.MRQC_UDP_IPV4 | R.MRQC_IPV6 | R.MRQC_TCP_IPV6 | R.MRQC_TCP_IPV6_EX |
      R.MRQC_UDP_IPV6 | R.MRQC_IPV6_EX | R.MRQC_UDP_IPV6_EX;
    t.equal((mrqc & ~R.MRQC_ENABLE_MASK) >>> 0, fields >>> 0, 'every hash field');
    t.ok(sim.get(R.RXCSUM) & R.RXCSUM_PCSD, 'PCSD set (QEMU hashes only with it)');
    t.same(sim.rssKey(), DEFAULT_RSS_KEY, 'RSSRK holds the default key, byte 0 first');
    const reta = defaultReta(128, 4);
    t.same(Array.from({ length: 128 }, (_, i) => sim.retaEntry(i)), reta, 'RETA: entry i -> queue i mod 4');
    const kinds: Array<Pick<FlowSpec, 'v6' | 'proto'>> = [{ proto: 'tcp' }, { proto: 'udp' }, { v6: true, proto: 'tcp' }, { v6: true, proto: 'udp' }];
    const perQueue = [0, 0, 0, 0];
    for (const kind of kinds) {
      const expect: Array<{ hash: number; q: number; f: Uint8Array }> = [];
      for (let i = 0; i < 24; i++) {
        const s: FlowSpec = { ...kind, src: kind.v6 ? ip6(i) : ip4(i), dst: kind.v6 ? ip6(1000 + i) : ip4(1000 + i), sport: 1024 + i * 7, dport: 80 + i };
        const tuple = [...s.src, ...s.dst, s.sport >> 8, s.sport & 0xff, s.dport >> 8, s.dport & 0xff];
        const hash = toeplitz(DEFAULT_RSS_KEY, tuple);
        const f = flowFrame(s);
        const d = sim.receive(f);
        t.ok(d, 'received');
        if (d && (d.queue !== reta[hash & 127] || d.hash !== hash)) t.fail(`${JSON.stringify(kind)} flow ${i}: queue ${d.queue} hash ${d.hash}, want ${reta[hash & 127]} ${hash}`);
        expect.push({ hash, q: reta[hash & 127], f });
      }
      for (let q = 0; q < 4; q++) {
        const mine = expect.filter((e) => e.q === q);
        perQueue[q] += mine.length;
        const n = drain(q, (m, i) => {
          const e = mine[i];
          if (rssHash(m) !== e.hash || (olFlags(m) & RX_RSS_HASH) === 0) t.fail(`queue ${q} packet ${i}: hash ${rssHash(m)}, want ${e.hash}`);
          const l3 = kind.v6 ? PTYPE_L3_IPV6 : PTYPE_L3_IPV4;
          const l4 = kind.proto === 'tcp' ? PTYPE_L4_TCP : PTYPE_L4_UDP;
          if (packetType(m) !== (PTYPE_L2_ETHER | l3 | l4)) t.fail(`packet type 0x${packetType(m).toString(16)}`);
          if (!packetBytes(m).every((b, j) => b === e.f[j])) t.fail('data differs');
        });
        t.equal(n, mine.length, `${kind.v6 ? 'IPv6' : 'IPv4'} ${kind.proto}: queue ${q} got its ${mine.length} flows, hash in the mbuf`);
      }
    }
    t.ok(perQueue.every((n) => n > 0), `every queue got traffic (${perQueue.join(', ')})`);

    // RETA update: everything to queue 2
    retaUpdate(port, new Array(128).fill(2));
    t.same(retaQuery(port), new Array(128).fill(2));
    t.equal(sim.retaEntry(77), 2, 'RETA rewritten on a started port');
    for (let i = 0; i < 8; i++) sim.receive(flowFrame({ proto: 'udp', src: ip4(i), dst: ip4(9), sport: 5000 + i, dport: 53 }));
    t.equal(drain(2), 8, 'all on queue 2');
    // IPv6 TCP alone: hashed with the ports (QEMU's igb needs the TcpIPv6Ex bit for it)
    rssHashUpdate(port, { hf: RSS_IPV6 | RSS_NONFRAG_IPV6_TCP });
    t.equal((sim.get(R.MRQC) & ~R.MRQC_ENABLE_MASK) >>> 0, (R.MRQC_IPV6 | R.MRQC_TCP_IPV6 | R.MRQC_TCP_IPV6_EX) >>> 0,
      'IPv6 TCP sets TcpIPv6 and TcpIPv6Ex');
    const s6: FlowSpec = { v6: true, proto: 'tcp', src: ip6(77), dst: ip6(78), sport: 33000, dport: 443 };
    const h6 = toeplitz(DEFAULT_RSS_KEY, [...s6.src, ...s6.dst, s6.sport >> 8, s6.sport & 0xff, s6.dport >> 8, s6.dport & 0xff]);
    t.equal(sim.receive(flowFrame(s6))?.hash, h6, 'TCP over IPv6 hashed over addresses and ports');
    t.equal(drain(2, (m) => t.equal(rssHash(m), h6)), 1);
    // key and hash types: a new key, addresses only
    const key = DEFAULT_RSS_KEY.map((b, i) => (b ^ (i * 37)) & 0xff);
    rssHashUpdate(port, { key, hf: RSS_IPV4 });
    t.same(rssHashConfGet(port), { key: Uint8Array.from(key), hf: RSS_IPV4 });
    t.same(sim.rssKey(), key, 'new key in RSSRK');
    t.equal(sim.get(R.MRQC) >>> 16, R.MRQC_IPV4 >>> 16, 'IPv4 field only');
    const s: FlowSpec = { proto: 'tcp', src: [192, 168, 1, 1], dst: [192, 168, 1, 2], sport: 1111, dport: 2222 };
    const d = sim.receive(flowFrame(s));
    t.equal(d?.hash, toeplitz(key, [...s.src, ...s.dst]), 'hash over the addresses, not the ports');
    t.equal(drain(2, (m) => t.equal(rssHash(m), toeplitz(key, [...s.src, ...s.dst]))), 1);
    t.equal(pool.availCount(), POOL_N - 4 * NB, 'no mbuf lost');
  });

  t.test('RX checksum status into ol_flags', async (t) => {
    const s4: FlowSpec = { proto: 'tcp', src: ip4(1), dst: ip4(2), sport: 1000, dport: 2000 };
    const good = flowFrame(s4);
    const badIp = flowFrame(s4);
    badIp[24] ^= 0x55;
    const badL4 = flowFrame(s4);
    badL4[14 + 20 + 16] ^= 0x55;
    const udp = flowFrame({ proto: 'udp', src: ip4(3), dst: ip4(4), sport: 53, dport: 53 });
    const udpBad = flowFrame({ proto: 'udp', src: ip4(3), dst: ip4(4), sport: 53, dport: 53 });
    udpBad[14 + 20 + 6] ^= 0x01;
    const udp6 = flowFrame({ v6: true, proto: 'udp', src: ip6(1), dst: ip6(2), sport: 9, dport: 9 });
    retaUpdate(port, new Array(128).fill(0));
    const frames = [good, badIp, badL4, udp, udpBad, udp6];
    for (const f of frames) t.ok(sim.receive(f));
    const want = [
      RX_IP_CKSUM_GOOD | RX_L4_CKSUM_GOOD, RX_IP_CKSUM_BAD | RX_L4_CKSUM_GOOD, RX_IP_CKSUM_GOOD | RX_L4_CKSUM_BAD,
      RX_IP_CKSUM_GOOD | RX_L4_CKSUM_GOOD, RX_IP_CKSUM_GOOD | RX_L4_CKSUM_BAD, RX_L4_CKSUM_GOOD,
    ];
    const names = ['good TCP', 'bad IP header', 'bad TCP', 'good UDP', 'bad UDP', 'good UDP over IPv6'];
    const mask = RX_IP_CKSUM_GOOD | RX_IP_CKSUM_BAD | RX_L4_CKSUM_GOOD | RX_L4_CKSUM_BAD;
    t.equal(drain(0, (m, i) => t.equal(olFlags(m) & mask, want[i], names[i])), frames.length);
    t.equal(sim.get(R.RXCSUM) & (R.RXCSUM_IPOFLD | R.RXCSUM_TUOFLD), R.RXCSUM_IPOFLD | R.RXCSUM_TUOFLD, 'RXCSUM.IPOFLD|TUOFLD');
    // without the offload asked, no checksum flags
    setup(1, 1);
    t.equal(sim.get(R.RXCSUM) & (R.RXCSUM_IPOFLD | R.RXCSUM_TUOFLD), 0, 'IPOFLD|TUOFLD off when not asked');
    sim.receive(badIp);
    t.equal(drain(0, (m) => t.equal(olFlags(m) & mask, 0, 'no checksum flags')), 1);
  });

  t.test('VLAN strip and insert', async (t) => {
    devStop(port);
    t.throws(() => rxQueueSetup(port, 0, NB, 0, { offloads: RX_OFFLOAD_VLAN_STRIP }, pool), /port-wide/, 'per-queue strip alone is refused');
    setup(1, 1, { rxmode: { offloads: RX_OFFLOAD_VLAN_STRIP | RX_OFFLOAD_CHECKSUM }, txmode: { offloads: TX_OFFLOAD_VLAN_INSERT } });
    t.ok(sim.get(R.CTRL) & R.CTRL_VME, 'CTRL.VME');
    const s: FlowSpec = { proto: 'tcp', src: ip4(5), dst: ip4(6), sport: 4000, dport: 80 };
    const tci = (3 << 13) | 100;
    t.ok(sim.receive(flowFrame({ ...s, vlan: tci })));
    t.equal(drain(0, (m) => {
      t.equal(olFlags(m) & (RX_VLAN | RX_VLAN_STRIPPED), RX_VLAN | RX_VLAN_STRIPPED, 'RX_VLAN | RX_VLAN_STRIPPED');
      t.equal(vlanTci(m), tci, 'the tag in vlan_tci');
      t.same(packetBytes(m), flowFrame(s), 'the frame without its tag');
      t.equal(olFlags(m) & (RX_IP_CKSUM_GOOD | RX_L4_CKSUM_GOOD), RX_IP_CKSUM_GOOD | RX_L4_CKSUM_GOOD, 'checksums checked behind the tag');
    }), 1);
    sim.receive(flowFrame(s));
    t.equal(drain(0, (m) => t.equal(olFlags(m) & RX_VLAN, 0, 'untagged: no VLAN flag')), 1);

    const m = mk(flowFrame(s));
    setOlFlags(m, TX_VLAN);
    setVlanTci(m, 0x0123);
    const tail = sim.get(R.TDT(0));
    t.equal(txBurst(port, 0, Uint32Array.of(m), 1, 0), 1);
    const r = mem();
    const ctx = sim.txDesc(0, tail);
    const data = sim.txDesc(0, (tail + 1) % NB);
    t.equal(r.u32[ctx + 2] & (0xf << 20), R.TXD_DTYP_CTXT, 'a context descriptor first');
    t.equal(r.u32[ctx] >>> 16, 0x0123, 'holding the tag');
    t.ok(r.u32[data + 2] & R.TXD_CMD_VLE, 'the data descriptor asks for insertion (VLE)');
    const [f] = sim.stepTx(0);
    const tagged = flowFrame({ ...s, vlan: 0x0123 });
    t.same(f.bytes, tagged, 'sent with the 802.1Q tag');
    t.equal(f.vlan, 0x0123);
  });

  t.test('TX checksum offload through a context descriptor', async (t) => {
    setup(1, 1, { txmode: { offloads: TX_OFFLOAD_IPV4_CKSUM | TX_OFFLOAD_TCP_CKSUM | TX_OFFLOAD_UDP_CKSUM } });
    const specs: FlowSpec[] = [
      { proto: 'tcp', src: ip4(7), dst: ip4(8), sport: 1234, dport: 443, payload: 100 },
      { proto: 'udp', src: ip4(9), dst: ip4(10), sport: 5353, dport: 5353, payload: 33 },
    ];
    const ms = Uint32Array.from(specs.map((s) => {
      const f = flowFrame(s);
      const l4 = 34;
      const at = l4 + (s.proto === 'tcp' ? 16 : 6);
      f[24] = 0;
      f[25] = 0; // the NIC fills the IP header checksum
      const ph = pseudoHeaderSum(f);
      f[at] = ph >> 8;
      f[at + 1] = ph & 0xff; // and the L4 one, from the pseudo-header sum software leaves there
      const m = mk(f);
      setOlFlags(m, TX_IPV4 | TX_IP_CKSUM | (s.proto === 'tcp' ? TX_TCP_CKSUM : TX_UDP_CKSUM));
      setTxLens(m, 14, 20, s.proto === 'tcp' ? 20 : 8);
      return m;
    }));
    const tail = sim.get(R.TDT(0));
    t.equal(txBurst(port, 0, ms, 2, 0), 2);
    const r = mem();
    const ctx = sim.txDesc(0, tail);
    t.equal(r.u32[ctx + 2] & (0xf << 20), R.TXD_DTYP_CTXT, 'context descriptor');
    t.equal(r.u32[ctx] & 0xffff, (14 << 9) | 20, 'MACLEN 14, IPLEN 20');
    const data = sim.txDesc(0, (tail + 1) % NB);
    t.equal(r.u32[data + 3] & (R.TXD_POPTS_IXSM | R.TXD_POPTS_TXSM), R.TXD_POPTS_IXSM | R.TXD_POPTS_TXSM, 'POPTS IXSM | TXSM');
    const sent = sim.stepTx(0);
    t.equal(sent.length, 2);
    sent.forEach((f, i) => {
      const p = parse(f.bytes);
      t.ok(p.ipOk && p.l4Ok, `${specs[i].proto}: checksums valid on the wire`);
      t.same(f.bytes, flowFrame(specs[i]), 'exactly the frame with correct checksums');
    });
  });

  t.test('jumbo frames: 9018 bytes received as a chain and sent as a chain', async (t) => {
    setup(1, 1, { rxmode: { maxRxPktLen: 9018 }, txmode: { offloads: TX_OFFLOAD_MULTI_SEGS } });
    t.ok(sim.get(R.RCTL) & R.RCTL_LPE, 'RCTL.LPE');
    t.equal(sim.get(R.RLPML), 9022, 'RLPML = MTU 9000 + 22 (a VLAN tag of room)');
    const big = raw(9018, 3);
    t.ok(sim.receive(big), 'delivered across descriptors');
    const mb = new Uint32Array(32);
    t.equal(rxBurst(port, 0, mb, 32), 1, 'one packet');
    const m = mb[0];
    t.equal(pktLen(m), 9018);
    t.equal(nbSegs(m), 5, 'five segments of 2 KiB buffers');
    const segs: number[] = [];
    for (let s = m; s !== 0; s = next(s)) segs.push(dataLen(s));
    t.same(segs, [2048, 2048, 2048, 2048, 9018 - 4 * 2048]);
    t.same(packetBytes(m), big, 'bytes intact');
    const tail = sim.get(R.TDT(0));
    t.equal(txBurst(port, 0, mb, 1, 0), 1, 'the chain sent back');
    const r = mem();
    for (let i = 0; i < 5; i++) {
      const d = sim.txDesc(0, (tail + i) % NB);
      t.equal(r.u32[d + 2] & 0xffff, segs[i], `descriptor ${i}: one segment`);
      t.equal((r.u32[d + 2] & R.TXD_CMD_EOP) !== 0, i === 4, i === 4 ? 'EOP on the last' : 'no EOP');
      t.equal(r.u32[d + 3] >>> R.TXD_PAYLEN_SHIFT, 9018, 'PAYLEN: the whole packet');
    }
    const [f] = sim.stepTx(0);
    t.same(f.bytes, big, 'one 9018-byte frame on the wire');
    t.equal(sim.receive(raw(9018 + 5, 4)), null, 'a longer frame is dropped (RLPML)');
    // a chain built by hand
    const a = mk(raw(1000, 1).subarray(0, 1000));
    const b = mk(raw(3000, 1).subarray(1000, 2000));
    t.ok(chain(a, b));
    t.equal(txBurst(port, 0, Uint32Array.of(a), 1, 0), 1);
    t.same(sim.stepTx(0)[0].bytes, raw(3000, 1).subarray(0, 2000), 'two segments, one frame');
    mtuSet(port, 1500);
    t.equal(sim.get(R.RCTL) & (R.RCTL_LPE | R.RCTL_EN), R.RCTL_EN, 'MTU 1500 on a started port: LPE off, still receiving');
    t.equal(sim.get(R.RLPML), 1522);
    t.equal(sim.receive(raw(2000, 5)), null, 'now 2000 bytes are too long');
  });

  t.test('TX fuzz: bursts of single packets, chains and VLAN tags (context descriptors), a NIC that lags', async (t) => {
    setup(1, 1, { txmode: { offloads: TX_OFFLOAD_VLAN_INSERT | TX_OFFLOAD_MULTI_SEGS } });
    const r = txFuzz({ port, queue: 0, pool, stepTx: (q, max) => sim.stepTx(q, max), nb: NB, rounds: 2000, vlan: true });
    t.same(r.errors, [], 'no frame lost, repeated, reordered or corrupted');
    t.equal(r.missing, 0, `every accepted frame was sent (${r.frames} frames, ${r.chains} of 5 segments, ${r.tagged} tagged)`);
    t.ok(r.frames > 5000, 'the fuzz sent enough frames');
  });

  t.test('multi-queue TX: one doorbell per queue and burst', async (t) => {
    setup(2, 4);
    statsReset(port);
    const spy = spyDoorbells();
    for (let q = 0; q < 4; q++) {
      const m = new Uint32Array(8);
      for (let i = 0; i < 8; i++) m[i] = mk(raw(70 + q, q * 10 + i));
      t.equal(txBurst(port, q, m, 8, 0), 8);
    }
    spy.restore();
    t.same([...spy.counts.entries()].sort((x, y) => x[0] - y[0]), [0, 1, 2, 3].map((q) => [R.TDT(q), 1]), 'one TDT store per queue');
    for (let q = 0; q < 4; q++) {
      t.equal(R.TDT(q), 0xe018 + q * 0x40, `queue ${q}'s TDT in the 0xE000 block`);
      const f = sim.stepTx(q);
      t.equal(f.length, 8, `queue ${q} sent 8`);
      t.ok(f.every((x, i) => x.queue === q && x.bytes.length === 70 + q && x.bytes[20] === raw(70 + q, q * 10 + i)[20]), 'its own frames, in order');
    }
    const s = statsGet(port);
    t.same(s.qOpackets, [8, 8, 8, 8], 'per-queue counters');
  });

  t.test('per-queue start and stop', async (t) => {
    setup(2, 2, {}, (q) => (q === 1 ? { deferredStart: true } : null));
    t.equal(sim.get(R.RXDCTL(1)) & R.XDCTL_ENABLE, 0, 'deferred RX queue 1 stays off');
    t.equal(pool.availCount(), POOL_N - NB, 'and holds no mbufs');
    rxQueueStart(port, 1);
    t.ok(sim.get(R.RXDCTL(1)) & R.XDCTL_ENABLE, 'rxQueueStart: RXDCTL(1).ENABLE');
    t.equal(sim.get(R.RDT(1)), NB - 1);
    t.equal(pool.availCount(), POOL_N - 2 * NB, 'ring filled');
    rxQueueStop(port, 1);
    t.equal(sim.get(R.RXDCTL(1)) & R.XDCTL_ENABLE, 0, 'rxQueueStop: disabled');
    t.equal(pool.availCount(), POOL_N - NB, 'its mbufs back');
    txQueueStop(port, 1);
    t.equal(sim.get(R.TXDCTL(1)) & R.XDCTL_ENABLE, 0, 'txQueueStop: TXDCTL(1) disabled');
    t.equal(txBurst(port, 1, Uint32Array.of(0), 1, 0), 0, 'a stopped TX queue takes nothing');
    txQueueStart(port, 1);
    t.ok(sim.get(R.TXDCTL(1)) & R.XDCTL_ENABLE, 'txQueueStart: enabled again');
    t.equal(txBurst(port, 1, Uint32Array.of(mk(raw(60, 9))), 1, 0), 1);
    t.same(sim.stepTx(1).map((f) => f.bytes), [raw(60, 9)], 'and sending');
  });

  t.test('MAC filters, promiscuous, all-multicast', async (t) => {
    const extra = (i: number) => [0x02, 0x00, 0x00, 0x00, 0x10, i];
    const idx: number[] = [];
    for (let i = 1; i <= 23; i++) idx.push(macAddrAdd(port, extra(i)));
    t.same(idx, Array.from({ length: 23 }, (_, i) => i + 1), 'filters 1-23');
    t.throws(() => macAddrAdd(port, extra(99)), /in use/, 'the 82576 has 24');
    t.equal(R.RAL(15), 0x5478, 'entry 15 in the first block');
    t.equal(R.RAL(16), 0x54e0, 'entry 16 in the second');
    t.equal(sim.get(R.RAL(20)), 0x02, 'RAL(20): first four bytes');
    t.equal(sim.get(R.RAH(20)), (0x10 | (20 << 8) | R.RAH_AV) >>> 0, 'RAH(20): address and AV');
    t.ok(sim.receive(raw(64, 1, extra(5))) && sim.receive(raw(64, 2, extra(20))), 'frames to added addresses accepted');
    t.ok(sim.receive(raw(64, 3, MAC)), 'and to the port address');
    t.equal(sim.receive(raw(64, 4, [0x02, 0, 0, 0, 0x20, 1])), null, 'an unknown unicast address is filtered');
    t.equal(sim.receive(raw(64, 5, [0x01, 0x00, 0x5e, 0, 0, 1])), null, 'and a multicast one');
    macAddrRemove(port, extra(20));
    t.equal(sim.get(R.RAH(20)) & R.RAH_AV, 0, 'removed: RAH.AV clear');
    t.equal(sim.receive(raw(64, 6, extra(20))), null, 'its frames filtered again');
    promiscuousEnable(port);
    t.equal(sim.get(R.RCTL) & (R.RCTL_UPE | R.RCTL_MPE | R.RCTL_EN), R.RCTL_UPE | R.RCTL_MPE | R.RCTL_EN, 'UPE | MPE, still on');
    t.ok(sim.receive(raw(64, 7, [0x02, 0, 0, 0, 0x20, 1])), 'promiscuous: unknown unicast accepted');
    promiscuousDisable(port);
    allmulticastEnable(port);
    t.equal(sim.get(R.RCTL) & (R.RCTL_UPE | R.RCTL_MPE), R.RCTL_MPE, 'MPE');
    t.ok(sim.receive(raw(64, 8, [0x01, 0x00, 0x5e, 0, 0, 1])), 'all-multicast: multicast accepted');
    t.equal(sim.receive(raw(64, 9, [0x02, 0, 0, 0, 0x20, 1])), null, 'unknown unicast still filtered');
    allmulticastDisable(port);
    t.equal(sim.get(R.RCTL) & (R.RCTL_UPE | R.RCTL_MPE), 0);
    t.equal(drain(0), 5, 'the five accepted frames');
    for (let i = 1; i <= 23; i++) if (i !== 20) macAddrRemove(port, extra(i));
  });

  t.test('hardware statistics and xstats', async (t) => {
    statsReset(port);
    for (let i = 0; i < 4; i++) sim.receive(raw(100, i));
    sim.receive(raw(100, 9), { crcError: true });
    sim.add(R.MPC, 3);
    drain(0);
    const m = new Uint32Array(2);
    m[0] = mk(raw(60, 1));
    m[1] = mk(raw(70, 2));
    t.equal(txBurst(port, 0, m, 2, 0), 2);
    sim.stepTx(0);
    let s = statsGet(port);
    t.equal(s.ipackets, 4, 'ipackets from GPRC');
    t.equal(s.ibytes, 400, 'ibytes from GORC without the FCS');
    t.equal(s.imissed, 3, 'imissed from MPC');
    t.equal(s.ierrors, 1, 'ierrors from CRCERRS');
    t.equal(s.opackets, 2, 'opackets from GPTC');
    t.equal(s.obytes, 130, 'obytes from GOTC without the FCS');
    t.equal(sim.get(R.GPRC), 0, 'the counters cleared on read');
    s = statsGet(port);
    t.equal(s.ipackets, 4, 'totals kept across reads');
    const x = new Map(xstatsGet(port).map((e) => [e.name, e.value]));
    t.equal(x.get('rx_missed_packets'), 3);
    t.equal(x.get('rx_crc_errors'), 1);
    t.equal(x.get('rx_total_packets'), 5);
    t.equal(x.get('tx_good_packets_hw'), 2);
    t.equal(x.get('rx_broadcast_packets'), 4);
    t.ok(x.has('rx_size_1024_to_max_packets') && x.has('tx_size_1024_to_max_packets') && x.has('rx_code_violation_packets'), 'DPDK igb names');
  });

  t.test('stop returns every mbuf; start again works', async (t) => {
    setup(2, 2, { rxmode: { mqMode: 'rss' } });
    const m = new Uint32Array(5);
    for (let i = 0; i < 5; i++) m[i] = mk(raw(60, i));
    t.equal(txBurst(port, 1, m, 5, 0), 5, 'five in flight (not sent by the NIC)');
    sim.receive(raw(64, 1));
    sim.receive(raw(64, 2));
    devStop(port);
    t.equal(sim.get(R.RCTL) & R.RCTL_EN, 0, 'RCTL.EN off');
    t.equal(sim.get(R.TCTL) & R.TCTL_EN, 0, 'TCTL.EN off');
    t.equal((sim.get(R.RXDCTL(0)) | sim.get(R.RXDCTL(1)) | sim.get(R.TXDCTL(0)) | sim.get(R.TXDCTL(1))) & R.XDCTL_ENABLE, 0, 'every queue disabled');
    t.equal(pool.availCount(), POOL_N, 'pool full again');
    t.equal(rxBurst(port, 0, new Uint32Array(4), 4), 0, 'a stopped port receives nothing');
    devStart(port);
    t.equal(pool.availCount(), POOL_N - 2 * NB);
    t.equal(sim.get(R.RDH(0)), 0);
    sim.receive(raw(128, 3));
    t.equal(drain(0, (x) => t.same(packetBytes(x), raw(128, 3))) + drain(1), 1, 'receives after restart');
    t.equal(txBurst(port, 0, Uint32Array.of(mk(raw(60, 1))), 1, 0), 1);
    t.equal(sim.get(R.TDT(0)), 1, 'TX ring restarted from 0');
    sim.stepTx(0);
  });

  t.test('close resets the NIC and turns bus mastering off', async (t) => {
    const from = sim.log.length;
    const resets = sim.macResets;
    devClose(port);
    t.equal(pool.availCount(), POOL_N, 'no mbuf lost');
    t.notOk(sim.busMaster, 'bus mastering off');
    t.ok(sim.closed, 'device closed');
    t.equal(sim.macResets, resets + 1, 'CTRL.RST written');
    const drv = find(sim.log, w(R.CTRL_EXT, R.CTRL_EXT_DRV_LOAD, 0), from);
    const rst = find(sim.log, w(R.CTRL, R.CTRL_RST), from);
    t.ok(drv >= 0 && drv < rst, 'driver-loaded flag cleared before the reset');
    t.ok(find(sim.log, w(R.CTRL, R.CTRL_GIO_MASTER_DISABLE), from) < rst, 'after GIO master disable');
    sim.release();
  });
});

t.test('igb on a simulated I210: 4 queues, 16 filters, CRC strip per queue', async (t) => {
  await ealInit(['--no-huge', '-m', '64', '-l', '0']);
  t.teardown(ealCleanup);
  const pool = pktmbufPoolCreate('i210_pool', 1023, 32);
  const sim = new IgbSim('i210_sim_bar', { deviceId: 0x1533, mac: [0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc], func: 0 });
  setPciAccessProvider((bdf) => sim.access(bdf));
  t.teardown(() => setPciAccessProvider(null));
  const port = ethDevAllocate(BDF, igbPmd.probePci!(BDF, null as unknown as Vfio), igbPmd);
  const info = devInfoGet(port);
  t.equal(info.maxRxQueues, 4);
  t.equal(info.maxTxQueues, 4);
  t.equal(info.maxMacAddrs, 16);
  t.match(info.deviceName, BDF);
  t.throws(() => devConfigure(port, 5, 1), /at most 4/);
  devConfigure(port, 4, 1, { rxmode: { mqMode: 'rss', offloads: RX_OFFLOAD_RSS_HASH } });
  for (let q = 0; q < 4; q++) rxQueueSetup(port, q, NB, 0, null, pool);
  txQueueSetup(port, 0, NB, 0, null);
  devStart(port);
  for (let q = 0; q < 4; q++) t.ok(sim.get(R.DVMOLR(q)) & R.DVMOLR_STRCRC, `DVMOLR(${q}).STRCRC`);
  t.ok(linkGet(port, true).up, 'link up');
  const s: FlowSpec = { proto: 'udp', src: ip4(1), dst: ip4(2), sport: 7, dport: 7, dstMac: [0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc] };
  const d = sim.receive(flowFrame(s));
  t.ok(d, 'received');
  const mb = new Uint32Array(4);
  t.equal(rxBurst(port, d!.queue, mb, 4), 1, `on RSS queue ${d!.queue}`);
  t.equal(rssHash(mb[0]), toeplitz(DEFAULT_RSS_KEY, [...s.src, ...s.dst, 0, 7, 0, 7]));
  pktmbufFreeBulk(mb, 1, 0);
  devClose(port);
  t.equal(pool.availCount(), 1023);
  sim.release();
});

t.test('a SerDes port skips the copper PHY; a foreign device ID is refused', async (t) => {
  await ealInit(['--no-huge', '-m', '32', '-l', '0']);
  t.teardown(ealCleanup);
  const sim = new IgbSim('serdes_sim_bar', { deviceId: 0x10e7, linkMode: 3 });
  setPciAccessProvider((bdf) => sim.access(bdf));
  t.teardown(() => setPciAccessProvider(null));
  const ops = igbPmd.probePci!(BDF, null as unknown as Vfio);
  t.notOk(sim.log.some(([op, off]) => op === 'w' && off === R.MDIC), 'no MDIC access');
  t.ok(sim.get(R.CTRL) & R.CTRL_SLU, 'CTRL.SLU set');
  ops.close();
  sim.release();
  const other = new IgbSim('other_sim_bar', { deviceId: 0x10d3 });
  setPciAccessProvider((bdf) => other.access(bdf));
  t.throws(() => igbPmd.probePci!(BDF, null as unknown as Vfio), /not one net_igb drives/);
  t.ok(other.closed, 'the device is released');
  other.release();
});

t.test('igb RX interrupts: GPIE MSI-X mode, IVAR0 per queue, EIAC / EIAM, EITR, EIMS / EIMC per vector', async (t) => {
  await ealInit(['--no-huge', '-m', '64', '-l', '0']);
  t.teardown(ealCleanup);
  const pool = pktmbufPoolCreate('igb_intr_pool', POOL_N, 32);
  const sim = new IgbSim('igb_intr_bar', { mac: MAC });
  t.teardown(() => sim.release());
  const bound: number[][] = [];
  let unbound = 0;
  setPciAccessProvider((bdf) => ({
    ...sim.access(bdf),
    // QEMU's 82576 offers 10 MSI-X vectors (the datasheet's 25)
    irq: { msixCount: () => 10, enableMsix: (fds) => { bound.push([...fds]); }, disable: () => { unbound++; } },
  }));
  t.teardown(() => setPciAccessProvider(null));
  const ops = igbPmd.probePci!(BDF, null as unknown as Vfio);
  ops.configure(4, 1, { intrConf: { rxq: true, lsc: true } });
  const specs = [0, 1, 2, 3].map((q) => JSON.parse(JSON.stringify(ops.rxQueueSetup(q, NB, {}, pool, 0))));
  ops.txQueueSetup(0, NB, {}, 0);
  ops.start();
  t.equal(bound.length, 1, 'MSI-X enabled once');
  t.equal(bound[0].length, 5, 'five vectors: four RX queues and link');
  t.equal(sim.get(R.GPIE), (R.GPIE_MSIX_MODE | R.GPIE_PBA_SUPPORT | R.GPIE_EIAME | R.GPIE_NSICR) >>> 0, 'GPIE: MSI-X mode, PBA, EIAME, NSICR');
  for (let q = 0; q < 4; q++) {
    t.equal(sim.get(R.IVAR0(q)) & 0xff, q | R.IVAR_VALID, `IVAR0[${q}] byte 0: RX queue ${q} -> vector ${q}, valid`);
    t.equal(sim.get(R.IVAR0(q)) >>> 8, 0, 'TX queues unrouted');
    t.equal(sim.get(R.EITR(q)), (R.EITR_20K | R.EITR_CNT_IGNR) >>> 0, `EITR${q}: 50 us`);
  }
  t.equal(sim.get(R.IVAR_MISC), (4 | R.IVAR_VALID) << 8, 'IVAR_MISC: other causes -> vector 4');
  t.equal(sim.get(R.EIAC), 0xf, 'EIAC: queue vectors auto-clear');
  t.equal(sim.get(R.EIAM), 0xf, 'EIAM: and auto-mask');
  t.equal(sim.get(R.EIMS), 1 << 4, 'EIMS: the link vector; queues start masked');
  t.equal(sim.get(R.IMS), R.ICR_LSC, 'IMS: link status');
  t.same(ops.rxIntrSource!(2), { fd: bound[0][2], kind: 'eventfd' });
  const q2 = intelDataPlane.attachRx(specs[2], new Float64Array(8));
  q2.intrEnable!();
  t.equal(sim.get(R.EIMS), 1 << 2, 'intrEnable: EIMS bit 2');
  q2.intrDisable!();
  t.equal(sim.get(R.EIMC), 1 << 2, 'intrDisable: EIMC bit 2');
  ops.stop();
  t.equal(unbound, 1, 'vectors unbound at stop');
  t.equal(sim.get(R.GPIE), 0, 'GPIE back to 0');
  t.equal(sim.get(R.IVAR0(0)), 0, 'IVAR0 cleared');
  ops.close();
  t.equal(pool.inUseCount(), 0, 'every mbuf back');
});
