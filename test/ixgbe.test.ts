// net_ixgbe against the simulated 82599 (test/helpers/ixgbe-sim.ts), which does the descriptor DMA itself and
// records every datasheet precondition the driver breaks: bring-up, RSS over 4 queues checked against a software
// Toeplitz, RX/TX across ring wraps with contents checked, offloads (checksum status, VLAN strip/insert, TX
// checksums), jumbo chains both ways, hardware statistics including a 32-bit counter wrapping while the port runs,
// per-queue start/stop, stop returning every mbuf, close, the X540 and X550 link paths, and negative tests that
// the model catches broken preconditions.
import t from 'tap';
import { ealInit, ealCleanup, memzoneReserve, memzoneFree, mem } from '../src/eal/index.js';
import {
  pktmbufPoolCreate, pktmbufAllocBulk, pktmbufFreeBulk, writeData, append, chain, pktLen, packetBytes, rssHash,
  olFlags, packetType, vlanTci, nbSegs, setOlFlags, setTxLens, setVlanTci,
  RX_RSS_HASH, RX_IP_CKSUM_GOOD, RX_IP_CKSUM_BAD, RX_L4_CKSUM_GOOD, RX_L4_CKSUM_BAD, RX_VLAN, RX_VLAN_STRIPPED,
  RX_IP_CKSUM_MASK, RX_L4_CKSUM_MASK, TX_IP_CKSUM, TX_IPV4, TX_TCP_CKSUM, TX_UDP_CKSUM, TX_VLAN,
  PTYPE_L2_ETHER, PTYPE_L3_IPV4, PTYPE_L4_TCP, PTYPE_L4_UDP, type Mempool,
} from '../src/mempool/mbuf.js';
import {
  ethDevAllocate, devConfigure, rxQueueSetup, txQueueSetup, devStart, devStop, devClose, rxBurst, txBurst, statsGet,
  statsReset, xstatsGet, linkGet, macAddrGet, formatMac, devInfoGet, promiscuousEnable, promiscuousDisable,
  allmulticastEnable, allmulticastDisable, macAddrAdd, retaQuery, retaUpdate, rxQueueStart, rxQueueStop,
  txQueueStart, txQueueStop, mtuSet,
} from '../src/ethdev/ethdev.js';
import {
  RX_OFFLOAD_CHECKSUM, RX_OFFLOAD_VLAN_STRIP, TX_OFFLOAD_IPV4_CKSUM, TX_OFFLOAD_TCP_CKSUM, TX_OFFLOAD_UDP_CKSUM,
  TX_OFFLOAD_VLAN_INSERT, RSS_IP, RSS_TCP, RSS_UDP, type EthConf,
} from '../src/pmd/driver.js';
import { setPciAccessProvider } from '../src/pmd/pci/access.js';
import { loadPmd } from '../src/pmd/registry.js';
import { pmd } from '../src/pmd/intel/ixgbe/ixgbe.js';
import { DEFAULT_RSS_KEY, toeplitz, ipv4Tuple } from '../src/pmd/intel/common/rss.js';
import { Regs } from '../src/pmd/intel/common/regs.js';
import * as R from '../src/pmd/intel/ixgbe/regs.js';
import type { Vfio } from '../src/vfio/index.js';
import { IxgbeSim, BAR_LEN, type Rule } from './helpers/ixgbe-sim.js';

const BDF = '0000:05:00.0';
const NB = 128;
const POOL_N = 4095;
const OUR_MAC = [0x52, 0x54, 0x00, 0x99, 0x00, 0x01];
const PEER_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];
const BCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

// ---- frames ---------------------------------------------------------------------------------------------------------
function sum16(b: ArrayLike<number>, from: number, to: number, acc = 0): number {
  let i = from;
  for (; i + 1 < to; i += 2) acc += (b[i] << 8) | b[i + 1];
  if (i < to) acc += b[i] << 8;
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 65536);
  return acc;
}

interface Flow {
  src?: string;
  dst?: string;
  proto?: 'tcp' | 'udp' | 'icmp';
  sport?: number;
  dport?: number;
  /** frame length without FCS */
  len?: number;
  vlan?: number;
  dstMac?: number[];
  seed?: number;
  badIp?: boolean;
  badL4?: boolean;
}

/** An Ethernet / IPv4 / TCP|UDP|ICMP frame with correct checksums (unless asked otherwise). */
function ipv4Frame(o: Flow = {}): Uint8Array {
  const proto = o.proto ?? 'udp';
  const len = o.len ?? 128;
  const f = new Uint8Array(len);
  f.set(o.dstMac ?? OUR_MAC, 0);
  f.set(PEER_MAC, 6);
  let at = 12;
  if (o.vlan !== undefined) {
    f.set([0x81, 0x00, o.vlan >> 8, o.vlan & 0xff], 12);
    at = 16;
  }
  f.set([0x08, 0x00], at);
  const ip = at + 2;
  const l4 = ip + 20;
  const ipLen = len - ip;
  const p = proto === 'tcp' ? 6 : proto === 'udp' ? 17 : 1;
  f.set([0x45, 0, ipLen >> 8, ipLen & 0xff, 0x12, 0x34, 0x40, 0, 64, p, 0, 0], ip);
  f.set((o.src ?? '10.0.0.1').split('.').map(Number), ip + 12);
  f.set((o.dst ?? '10.0.0.2').split('.').map(Number), ip + 16);
  const hl = proto === 'tcp' ? 20 : 8;
  for (let i = l4 + hl; i < len; i++) f[i] = (i * 13 + (o.seed ?? 0)) & 0xff;
  const sp = o.sport ?? 1234;
  const dp = o.dport ?? 80;
  if (proto === 'tcp') f.set([sp >> 8, sp & 0xff, dp >> 8, dp & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0x20, 0], l4);
  else if (proto === 'udp') f.set([sp >> 8, sp & 0xff, dp >> 8, dp & 0xff, (len - l4) >> 8, (len - l4) & 0xff], l4);
  else f.set([8, 0, 0, 0, 0, 1, 0, 1], l4);
  const ipc = ~sum16(f, ip, ip + 20) & 0xffff;
  f[ip + 10] = ipc >> 8;
  f[ip + 11] = ipc & 0xff;
  const ckAt = proto === 'tcp' ? l4 + 16 : proto === 'udp' ? l4 + 6 : l4 + 2;
  const seed = proto === 'icmp' ? 0 : sum16(f, ip + 12, ip + 20) + p + (len - l4);
  let c = ~sum16(f, l4, len, seed) & 0xffff;
  if (proto === 'udp' && c === 0) c = 0xffff;
  f[ckAt] = c >> 8;
  f[ckAt + 1] = c & 0xff;
  if (o.badIp) f[ip + 10] ^= 0x5a;
  if (o.badL4) f[ckAt] ^= 0x33;
  return f;
}

/** The same frame as software hands it to a TX checksum offload: IP checksum 0, L4 checksum = pseudo-header sum. */
function offloadForm(f: Uint8Array, l4Ck: number): Uint8Array {
  const g = Uint8Array.from(f);
  const ip = 14;
  g[ip + 10] = 0;
  g[ip + 11] = 0;
  const l4 = ip + 20;
  const p = g[ip + 9];
  let folded = sum16(g, ip + 12, ip + 20) + p + (g.length - l4);
  while (folded > 0xffff) folded = (folded & 0xffff) + (folded >>> 16);
  const at = l4 + l4Ck;
  g[at] = folded >> 8;
  g[at + 1] = folded & 0xff;
  return g;
}

function rawFrame(len: number, seed: number, dst = OUR_MAC): Uint8Array {
  const f = new Uint8Array(len);
  for (let i = 0; i < len; i++) f[i] = (i * 7 + seed) & 0xff;
  f.set(dst, 0);
  f.set(PEER_MAC, 6);
  f[12] = 0x88;
  f[13] = 0xb5; // local experimental ethertype: no L3
  return f;
}

// ---- helpers --------------------------------------------------------------------------------------------------------
function rxAll(port: number, q: number, max = 100000): number[] {
  const out: number[] = [];
  const b = new Uint32Array(32);
  for (let k; out.length < max && (k = rxBurst(port, q, b, 32)) > 0;) for (let i = 0; i < k; i++) out.push(b[i]);
  return out;
}

function freeAll(ms: number[]): void {
  if (ms.length) pktmbufFreeBulk(Uint32Array.from(ms), ms.length, 0);
}

function txFrames(port: number, q: number, pool: Mempool, frames: Uint8Array[], prep?: (m: number, i: number) => void): number {
  const m = new Uint32Array(frames.length);
  if (!pktmbufAllocBulk(pool, m, frames.length, 0)) throw new Error('pool empty');
  frames.forEach((f, i) => {
    append(m[i], f.length);
    writeData(m[i], f);
    prep?.(m[i], i);
  });
  const sent = txBurst(port, q, m, frames.length, 0);
  if (sent < frames.length) pktmbufFreeBulk(m, frames.length - sent, sent);
  return sent;
}

function xstat(port: number, name: string): number | undefined {
  return xstatsGet(port).find((x) => x.name === name)?.value;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

t.test('ixgbe on a simulated 82599', async (t) => {
  await ealInit(['--no-huge', '-m', '160', '-l', '0']);
  t.teardown(ealCleanup);
  const pool = pktmbufPoolCreate('ixgbe_pool', POOL_N, 32);
  const sim = new IxgbeSim({ mac: OUR_MAC });
  const sims = new Map<string, IxgbeSim>([[BDF, sim]]);
  setPciAccessProvider((bdf) => sims.get(bdf)!.access(bdf));
  t.teardown(() => setPciAccessProvider(null));

  const t0 = Date.now();
  const ops = pmd.probePci!(BDF, null as unknown as Vfio);
  t.ok(Date.now() - t0 < 2000, 'reset and probe take well under two seconds');
  const port = ethDevAllocate(BDF, ops, pmd);
  t.ok(pmd.pciIds!.some((p) => p.vendor === 0x8086 && p.device === 0x10fb), 'claims 8086:10fb (82599ES SFP+)');
  t.ok(pmd.pciIds!.some((p) => p.device === 0x1528) && pmd.pciIds!.some((p) => p.device === 0x1563), 'and the X540 / X550 IDs');
  t.equal(await loadPmd('net_ixgbe'), pmd, 'the registry\'s catalogue entry loads this module');

  /** (Re)configures the port with nq queue pairs and starts it. */
  function bringUp(nq: number, conf: EthConf = {}, nb = NB, dropEn = false): void {
    devStop(port);
    devConfigure(port, nq, nq, conf);
    for (let q = 0; q < nq; q++) {
      rxQueueSetup(port, q, nb, 0, { dropEn }, pool);
      txQueueSetup(port, q, nb, 0, null);
    }
    devStart(port);
  }

  t.test('bring-up follows the datasheet, with no precondition broken', async (t) => {
    t.same(sim.violations, [], 'no violation during probe');
    t.equal(sim.resets, 1, 'one global reset');
    t.equal(formatMac(macAddrGet(port)), formatMac(OUR_MAC), 'MAC from RAL0/RAH0');
    const w = sim.log.filter((e) => e.w);
    const rst = w.findIndex((e) => e.reg === R.CTRL && (e.v & R.CTRL_RST) !== 0);
    t.ok(rst > 0, 'CTRL.RST written');
    t.ok((w[rst].v & R.CTRL_LNK_RST) !== 0, 'with LNK_RST');
    t.ok(w.slice(0, rst).some((e) => e.reg === R.EIMC && e.v === R.EIMC_ALL), 'interrupts masked before the reset (4.6.3.1)');
    t.ok(w.slice(rst).some((e) => e.reg === R.EIMC && e.v === R.EIMC_ALL), 'and again after it');
    t.ok(w.slice(0, rst).some((e) => e.reg === R.CTRL && (e.v & R.CTRL_GIO_DIS) !== 0), 'DMA quiesced (GIO master disable) first');
    const all = sim.log;
    const afterRst = all.findIndex((e) => e.w && e.reg === R.CTRL && (e.v & R.CTRL_RST) !== 0);
    const ard = all.findIndex((e, i) => i > afterRst && !e.w && e.reg === R.EEC && (e.v & R.EEC_ARD) !== 0);
    const dma = all.findIndex((e, i) => i > afterRst && !e.w && e.reg === R.RDRXCTL && (e.v & R.RDRXCTL_DMAIDONE) !== 0);
    t.ok(ard > afterRst && dma > afterRst, 'EEC.ARD and RDRXCTL.DMAIDONE polled after the reset');
    t.equal(sim.anRestarts, 1, 'link set-up: AUTOC autonegotiation restarted once (4.6.4)');
    t.equal(sim.peek(R.AUTOC) & R.AUTOC_LMS_MASK, R.AUTOC_LMS_10G_SERIAL, 'the NVM\'s link mode kept');
    t.ok(sim.peek(R.CTRL_EXT) & R.CTRL_EXT_DRV_LOAD, 'CTRL_EXT.DRV_LOAD');
    t.same(linkGet(port, true), { up: true, speed: 10000, fullDuplex: true, autoneg: true }, 'link up at 10 Gb/s (LINKS)');
    const info = devInfoGet(port);
    t.equal(info.driverName, 'net_ixgbe');
    t.equal(info.maxRxQueues, 16);
    t.equal(info.retaSize, 128);
    t.equal(info.maxMacAddrs, 128);
    t.same(info.speedCapa, [1000, 10000]);

    sim.log.length = 0;
    bringUp(1);
    t.same(sim.violations, [], 'no violation during configure / start');
    t.ok(sim.busMaster, 'bus mastering on');
    const ws = sim.log.filter((e) => e.w);
    const at = (reg: number, bit: number) => ws.findIndex((e) => e.reg === reg && (e.v & bit) !== 0);
    t.ok(at(R.RXDCTL(0), R.RXDCTL_ENABLE) < ws.findIndex((e) => e.reg === R.RDT(0) && e.v !== 0), 'RXDCTL.ENABLE before RDT is bumped');
    t.ok(at(R.RXDCTL(0), R.RXDCTL_ENABLE) < at(R.RXCTRL, R.RXCTRL_RXEN), 'queue enabled before RXCTRL.RXEN');
    t.ok(at(R.DMATXCTL, R.DMATXCTL_TE) < at(R.TXDCTL(0), R.TXDCTL_ENABLE), 'DMATXCTL.TE before TXDCTL.ENABLE');
    t.ok(at(R.RTTDCS, R.RTTDCS_ARBDIS) < ws.findIndex((e) => e.reg === R.MTQC), 'RTTDCS.ARBDIS around MTQC');
    t.equal(sim.peek(R.SRRCTL(0)), R.SRRCTL_DESCTYPE_ADV_ONEBUF | 2, 'SRRCTL: advanced one-buffer descriptors, 2 KiB buffers');
    t.equal(sim.peek(R.DCA_RXCTRL(0)) & R.DCA_RXCTRL_BIT12, 0, 'DCA_RXCTRL bit 12 cleared');
    t.ok(sim.peek(R.FCTRL) & R.FCTRL_BAM, 'FCTRL.BAM');
    t.ok(sim.peek(R.HLREG0) & R.HLREG0_RXCRCSTRP && sim.peek(R.RDRXCTL) & R.RDRXCTL_CRCSTRIP, 'CRC stripped (HLREG0 and RDRXCTL agree)');
    t.ok((sim.peek(R.HLREG0) & (R.HLREG0_TXCRCEN | R.HLREG0_TXPADEN)) === (R.HLREG0_TXCRCEN | R.HLREG0_TXPADEN), 'TX CRC and padding');
    t.equal(sim.peek(R.HLREG0) & R.HLREG0_JUMBOEN, 0, 'no jumbo at MTU 1500');
    t.ok(sim.peek(R.CTRL_EXT) & R.CTRL_EXT_NS_DIS, 'no-snoop disabled');
    t.equal(sim.peek(R.MRQC), 0, 'RSS off with one queue');
    t.equal(sim.peek(R.RDLEN(0)), NB * 16);
    t.equal(sim.peek(R.RDT(0)), NB - 1, 'every RX descriptor but one given to the NIC');
    t.equal(sim.peek(R.RQSMR(1)), 0x07060504, 'queue statistics mapped one to one');
    t.equal(pool.availCount(), POOL_N - NB, 'RX ring armed from the pool');
  });

  t.test('RX and TX through several ring wraps, contents checked', async (t) => {
    let got = 0;
    for (let round = 0; round < 10; round++) {
      const frames = Array.from({ length: 50 }, (_, i) => rawFrame(60 + ((round * 50 + i) % 200), round * 50 + i));
      if (!frames.every((f) => sim.receive(f).ok)) t.fail(`round ${round}: a frame was dropped`);
      const ms = rxAll(port, 0);
      t.equal(ms.length, 50, `round ${round}: 50 frames`);
      ms.forEach((m, i) => {
        if (pktLen(m) !== frames[i].length || Buffer.compare(Buffer.from(packetBytes(m)), Buffer.from(frames[i])) !== 0) {
          t.fail(`round ${round} frame ${i} differs`);
        }
      });
      got += ms.length;
      freeAll(ms);
    }
    t.equal(got, 500, '500 frames through a 128-descriptor ring');
    t.equal(pool.availCount(), POOL_N - NB, 'no mbuf lost on RX');

    sim.clearSent();
    const all: Uint8Array[] = [];
    for (let round = 0; round < 16; round++) {
      const frames = Array.from({ length: 32 }, (_, i) => rawFrame(64 + i * 3, 1000 + round * 32 + i, PEER_MAC));
      t.equal(txFrames(port, 0, pool, frames), 32, `TX burst ${round}`);
      all.push(...frames);
    }
    t.equal(sim.sent.length, 512, '512 frames on the wire');
    t.ok(sim.sent.every((f, i) => Buffer.compare(Buffer.from(f), Buffer.from(all[i])) === 0), 'every frame byte for byte, in order');
    const tdh = sim.peek(R.TDH(0));
    t.equal(tdh, 512 % NB, 'TDH wrapped with the ring');
    t.ok(pool.inUseCount() <= NB + 32, 'sent mbufs are reclaimed in batches');
    t.same(sim.violations, [], 'no violation');
  });

  t.test('4-queue RSS: queues and hashes as a software Toeplitz predicts', async (t) => {
    bringUp(4, { rxmode: { mqMode: 'rss' }, rxAdvConf: { rssConf: { hf: RSS_IP | RSS_TCP | RSS_UDP } } });
    t.same(sim.violations, [], 'no violation');
    const mrqc = sim.peek(R.MRQC);
    t.equal(mrqc & R.MRQC_MRQE_MASK, R.MRQC_RSSEN, 'MRQC RSS enabled');
    t.ok((mrqc & (R.MRQC_RSS_FIELD_IPV4 | R.MRQC_RSS_FIELD_IPV4_TCP | R.MRQC_RSS_FIELD_IPV4_UDP)) ===
      (R.MRQC_RSS_FIELD_IPV4 | R.MRQC_RSS_FIELD_IPV4_TCP | R.MRQC_RSS_FIELD_IPV4_UDP), 'IPv4, TCP and UDP hash fields');
    t.same(sim.rssKey(), [...DEFAULT_RSS_KEY], 'RSSRK holds the default key');
    t.ok(sim.peek(R.RXCSUM) & R.RXCSUM_PCSD, 'RXCSUM.PCSD (hash in the write-back)');
    const reta = retaQuery(port);
    t.same(reta.slice(0, 8), [0, 1, 2, 3, 0, 1, 2, 3], 'default RETA');
    statsReset(port);
    const flows = Array.from({ length: 64 }, (_, i) => ({
      src: `10.1.${i >> 4}.${(i * 7) & 0xff}`, dst: '192.168.7.9', proto: (i & 1 ? 'tcp' : 'udp') as 'tcp' | 'udp',
      sport: 1024 + i * 37, dport: 80 + (i % 3), seed: i, len: 100 + i,
    }));
    const expect = flows.map((f) => {
      const h = toeplitz(DEFAULT_RSS_KEY, ipv4Tuple(f.src, f.dst, f.sport, f.dport));
      return { h, q: reta[h & 127] };
    });
    for (const f of flows) t.ok(sim.receive(ipv4Frame(f)).ok);
    const perQ = [0, 0, 0, 0];
    let seen = 0;
    for (let q = 0; q < 4; q++) {
      const ms = rxAll(port, q);
      perQ[q] = ms.length;
      for (const m of ms) {
        const i = flows.findIndex((f) => f.len === pktLen(m));
        const e = expect[i];
        if (e.q !== q) t.fail(`flow ${i} on queue ${q}, Toeplitz says ${e.q}`);
        if (rssHash(m) !== e.h) t.fail(`flow ${i}: hash 0x${rssHash(m).toString(16)}, Toeplitz 0x${e.h.toString(16)}`);
        if ((olFlags(m) & RX_RSS_HASH) === 0) t.fail('RSS hash flag missing');
        const l4 = flows[i].proto === 'tcp' ? PTYPE_L4_TCP : PTYPE_L4_UDP;
        if (packetType(m) !== (PTYPE_L2_ETHER | PTYPE_L3_IPV4 | l4)) t.fail(`flow ${i}: packet type 0x${packetType(m).toString(16)}`);
        seen++;
      }
      freeAll(ms);
    }
    t.equal(seen, 64, 'every flow received, each on its predicted queue with its predicted hash');
    t.ok(perQ.every((n) => n > 0), `all four queues used (${perQ.join(', ')})`);
    const s = statsGet(port);
    t.same(s.qIpackets, perQ, 'software per-queue counters');
    t.equal(s.ipackets, 64, 'port ipackets (sum of the hardware QPRC counters)');
    for (let q = 0; q < 4; q++) t.equal(xstat(port, `rx_q${q}_packets_hw`), perQ[q], `hardware QPRC(${q}) = queue ${q}'s packets`);
    t.equal(perQ.reduce((a, b) => a + b, 0), s.ipackets, 'per-queue counters add up to the port\'s');

    // a frame without ports hashes on the addresses only
    const icmp = ipv4Frame({ proto: 'icmp', src: '172.16.5.4', dst: '172.16.9.1', len: 98 });
    const h2 = toeplitz(DEFAULT_RSS_KEY, ipv4Tuple('172.16.5.4', '172.16.9.1'));
    const r = sim.receive(icmp);
    t.equal(r.queue, reta[h2 & 127], 'ICMP: queue from the 2-tuple hash');
    const m = rxAll(port, r.queue);
    t.equal(m.length, 1);
    t.equal(rssHash(m[0]), h2, 'ICMP: 2-tuple hash in the mbuf');
    freeAll(m);

    // RETA update: everything to queue 2
    retaUpdate(port, new Array(128).fill(2));
    for (const f of flows.slice(0, 16)) sim.receive(ipv4Frame(f));
    t.equal(rxAll(port, 0).length + rxAll(port, 1).length + rxAll(port, 3).length, 0, 'nothing on the other queues');
    const q2 = rxAll(port, 2);
    t.equal(q2.length, 16, 'after retaUpdate every flow lands on queue 2');
    freeAll(q2);
    t.same(sim.violations, [], 'no violation');
  });

  t.test('per-queue stop and start', async (t) => {
    retaUpdate(port, Array.from({ length: 128 }, (_, i) => i % 4));
    const before = sim.resets;
    rxQueueStop(port, 1);
    t.equal(sim.peek(R.RXDCTL(1)) & R.RXDCTL_ENABLE, 0, 'RXDCTL(1).ENABLE off');
    txQueueStop(port, 3);
    t.equal(sim.peek(R.TXDCTL(3)) & R.TXDCTL_ENABLE, 0, 'TXDCTL(3).ENABLE off');
    t.equal(txFrames(port, 3, pool, [rawFrame(64, 1, PEER_MAC)]), 0, 'a stopped TX queue takes nothing');
    rxQueueStart(port, 1);
    txQueueStart(port, 3);
    t.ok(sim.peek(R.RXDCTL(1)) & R.RXDCTL_ENABLE, 'RX queue 1 back');
    t.equal(sim.peek(R.RDT(1)), NB - 1, 'and armed');
    sim.clearSent();
    t.equal(txFrames(port, 3, pool, [rawFrame(64, 2, PEER_MAC)]), 1, 'TX queue 3 sends again');
    t.equal(sim.sentQueue[0], 3);
    t.equal(sim.resets, before, 'no reset');
    t.same(sim.violations, [], 'no violation');
  });

  t.test('offloads: RX checksum status, VLAN strip, VLAN insert, TX checksums', async (t) => {
    bringUp(1, {
      rxmode: { offloads: RX_OFFLOAD_CHECKSUM | RX_OFFLOAD_VLAN_STRIP },
      txmode: { offloads: TX_OFFLOAD_VLAN_INSERT | TX_OFFLOAD_IPV4_CKSUM | TX_OFFLOAD_TCP_CKSUM | TX_OFFLOAD_UDP_CKSUM },
    });
    t.ok(sim.peek(R.RXDCTL(0)) & R.RXDCTL_VME, 'RXDCTL.VME (strip on this queue)');
    const cases: Array<[string, Flow, number, number]> = [
      ['good TCP', { proto: 'tcp' }, RX_IP_CKSUM_GOOD, RX_L4_CKSUM_GOOD],
      ['good UDP', { proto: 'udp' }, RX_IP_CKSUM_GOOD, RX_L4_CKSUM_GOOD],
      ['bad IP checksum', { proto: 'tcp', badIp: true }, RX_IP_CKSUM_BAD, RX_L4_CKSUM_GOOD],
      ['bad TCP checksum', { proto: 'tcp', badL4: true }, RX_IP_CKSUM_GOOD, RX_L4_CKSUM_BAD],
      ['bad UDP checksum', { proto: 'udp', badL4: true }, RX_IP_CKSUM_GOOD, RX_L4_CKSUM_BAD],
    ];
    for (const [name, f, ip, l4] of cases) {
      sim.receive(ipv4Frame(f));
      const m = rxAll(port, 0);
      t.equal(m.length, 1, `${name}: received`);
      t.equal(olFlags(m[0]) & RX_IP_CKSUM_MASK, ip, `${name}: IP flag`);
      t.equal(olFlags(m[0]) & RX_L4_CKSUM_MASK, l4, `${name}: L4 flag`);
      freeAll(m);
    }
    // VLAN strip
    const tagged = ipv4Frame({ proto: 'udp', vlan: 0x6064, len: 200 });
    const plain = Uint8Array.from([...tagged.subarray(0, 12), ...tagged.subarray(16)]);
    sim.receive(tagged);
    let m = rxAll(port, 0);
    t.equal(m.length, 1);
    t.equal(vlanTci(m[0]), 0x6064, 'stripped tag in vlan_tci');
    t.equal(olFlags(m[0]) & (RX_VLAN | RX_VLAN_STRIPPED), RX_VLAN | RX_VLAN_STRIPPED, 'VLAN | VLAN_STRIPPED');
    t.same(packetBytes(m[0]), plain, 'frame without the tag');
    t.equal(packetType(m[0]), PTYPE_L2_ETHER | PTYPE_L3_IPV4 | PTYPE_L4_UDP, 'packet type parsed past the tag');
    t.equal(olFlags(m[0]) & RX_L4_CKSUM_MASK, RX_L4_CKSUM_GOOD, 'checksums checked past the tag');
    freeAll(m);

    // TX: checksums computed by the NIC from zeroed IP / pseudo-header-seeded L4 fields
    sim.clearSent();
    const tcp = ipv4Frame({ proto: 'tcp', len: 300, dstMac: PEER_MAC, seed: 3 });
    const udp = ipv4Frame({ proto: 'udp', len: 99, dstMac: PEER_MAC, seed: 4 });
    t.equal(txFrames(port, 0, pool, [offloadForm(tcp, 16), offloadForm(udp, 6)], (mb, i) => {
      setOlFlags(mb, TX_IPV4 | TX_IP_CKSUM | (i === 0 ? TX_TCP_CKSUM : TX_UDP_CKSUM));
      setTxLens(mb, 14, 20, i === 0 ? 20 : 8);
    }), 2);
    t.same(sim.sent[0], tcp, 'TCP frame left with correct IP and TCP checksums');
    t.same(sim.sent[1], udp, 'UDP frame left with correct IP and UDP checksums');
    // VLAN insert (and a checksum on the same packet)
    const vtcp = ipv4Frame({ proto: 'tcp', len: 120, dstMac: PEER_MAC, seed: 5 });
    t.equal(txFrames(port, 0, pool, [vtcp, offloadForm(vtcp, 16)], (mb, i) => {
      setOlFlags(mb, TX_VLAN | (i === 1 ? TX_IPV4 | TX_IP_CKSUM | TX_TCP_CKSUM : 0));
      setVlanTci(mb, 0x2005 + i);
      setTxLens(mb, 14, 20, 20);
    }), 2);
    const withTag = (tci: number) => Uint8Array.from([...vtcp.subarray(0, 12), 0x81, 0x00, tci >> 8, tci & 0xff, ...vtcp.subarray(12)]);
    t.same(sim.sent[2], withTag(0x2005), 'VLAN tag inserted');
    t.same(sim.sent[3], withTag(0x2006), 'VLAN tag inserted and checksums computed');
    t.same(sim.violations, [], 'no violation');
  });

  t.test('jumbo frames: 9000-byte MTU, chains on RX and TX', async (t) => {
    bringUp(1, { rxmode: { mtu: 9000 } });
    t.ok(sim.peek(R.HLREG0) & R.HLREG0_JUMBOEN, 'HLREG0.JUMBOEN');
    t.equal(sim.peek(R.MAXFRS) >>> 16, 9000 + 18 + 4, 'MAXFRS.MFS = MTU + header + FCS + one VLAN tag');
    const big = rawFrame(9014, 77);
    t.ok(sim.receive(big).ok, 'a 9014-byte frame (9018 on the wire) is accepted');
    const m = rxAll(port, 0);
    t.equal(m.length, 1, 'one packet');
    t.equal(nbSegs(m[0]), 5, 'in five 2 KiB segments');
    t.equal(pktLen(m[0]), 9014);
    t.same(packetBytes(m[0]), big, 'contents intact');
    freeAll(m);
    t.equal(sim.receive(rawFrame(9019, 1)).reason, 'oversize', 'one byte over MAXFRS is dropped');
    // TX from a chain of five mbufs
    sim.clearSent();
    const segs = new Uint32Array(5);
    t.ok(pktmbufAllocBulk(pool, segs, 5, 0));
    for (let i = 0; i < 5; i++) {
      const n = i < 4 ? 2000 : big.length - 8000;
      append(segs[i], n);
      writeData(segs[i], big.subarray(i * 2000, i * 2000 + n));
      if (i > 0) chain(segs[0], segs[i]);
    }
    t.equal(pktLen(segs[0]), 9014);
    t.equal(txBurst(port, 0, segs, 1, 0), 1, 'the chain is taken');
    t.equal(sim.sent.length, 1);
    t.same(sim.sent[0], big, 'one 9014-byte frame on the wire');
    // frames of five descriptors across the end of the rings, both ways, in bursts that split them
    const jumbos = Array.from({ length: 60 }, (_, i) => rawFrame(8200 + i * 11, 300 + i));
    let rxOk = 0;
    for (let i = 0; i < jumbos.length; i += 6) {
      for (const f of jumbos.slice(i, i + 6)) sim.receive(f);
      for (const mb of rxAll(port, 0)) {
        const want = jumbos[rxOk++];
        if (nbSegs(mb) !== 5 || Buffer.compare(Buffer.from(packetBytes(mb)), Buffer.from(want)) !== 0) t.fail(`jumbo ${rxOk - 1} differs`);
        freeAll([mb]);
      }
    }
    t.equal(rxOk, 60, '60 jumbo frames (300 descriptors) through a 128-descriptor ring, chains split across bursts');
    sim.clearSent();
    for (let i = 0; i < 40; i++) {
      const f = jumbos[i];
      const c = new Uint32Array(5);
      t.ok(pktmbufAllocBulk(pool, c, 5, 0));
      for (let k = 0; k < 5; k++) {
        const n = k < 4 ? 2000 : f.length - 8000;
        append(c[k], n);
        writeData(c[k], f.subarray(k * 2000, k * 2000 + n));
        if (k > 0) chain(c[0], c[k]);
      }
      if (txBurst(port, 0, c, 1, 0) !== 1) t.fail(`jumbo TX ${i} refused`);
    }
    t.equal(sim.sent.length, 40, '40 five-segment packets (200 descriptors) sent across the ring end');
    t.ok(sim.sent.every((f, i) => Buffer.compare(Buffer.from(f), Buffer.from(jumbos[i])) === 0), 'each one intact');
    mtuSet(port, 1500);
    t.equal(sim.peek(R.HLREG0) & R.HLREG0_JUMBOEN, 0, 'mtuSet(1500) on the running port: JUMBOEN off');
    t.equal(sim.receive(rawFrame(3000, 1)).reason, 'oversize', 'and 3000-byte frames are dropped');
    t.same(sim.violations, [], 'no violation');
  });

  t.test('hardware statistics', async (t) => {
    bringUp(1);
    statsReset(port);
    for (let i = 0; i < 10; i++) sim.receive(rawFrame(100, i));
    const m = rxAll(port, 0);
    freeAll(m);
    t.equal(txFrames(port, 0, pool, Array.from({ length: 7 }, (_, i) => rawFrame(200, i, PEER_MAC))), 7);
    sim.receive(rawFrame(100, 1), { crcError: true });
    sim.receive(rawFrame(100, 2), { crcError: true });
    sim.receive(rawFrame(1600, 3));
    sim.receive(rawFrame(100, 4, [0x02, 9, 9, 9, 9, 9])); // not ours: filtered, not counted as received
    let s = statsGet(port);
    t.equal(s.ipackets, 10, 'ipackets');
    t.equal(s.ibytes, 1000, 'ibytes (FCS stripped)');
    t.equal(s.opackets, 7, 'opackets (GPTC)');
    t.equal(s.obytes, 1400, 'obytes (GOTC less the FCS)');
    t.equal(s.ierrors, 3, 'ierrors: 2 CRC errors + 1 oversize');
    t.equal(xstat(port, 'rx_crc_errors'), 2, 'xstat rx_crc_errors');
    t.equal(xstat(port, 'rx_oversize_errors'), 1, 'xstat rx_oversize_errors');
    t.equal(xstat(port, 'rx_size_65_to_127_packets'), 10, 'xstat rx_size_65_to_127_packets');
    t.equal(xstat(port, 'tx_size_128_to_255_packets'), 7, 'xstat tx_size_128_to_255_packets');
    // ring full: with DROP_EN off the NIC's packet buffer overflows into MPC
    // the NIC owns [RDH, RDT): the RX loop hands descriptors back 32 at a time, so 10 are still held
    const avail = (sim.peek(R.RDT(0)) - sim.peek(R.RDH(0)) + NB) % NB;
    t.equal(avail, NB - 1 - 10, 'descriptors the NIC may fill');
    const burst = NB + 20;
    let dropped = 0;
    for (let i = 0; i < burst; i++) if (!sim.receive(rawFrame(64, i)).ok) dropped++;
    t.equal(dropped, burst - avail, 'a full ring drops the rest');
    s = statsGet(port);
    t.equal(s.imissed, dropped, 'imissed from MPC');
    t.equal(xstat(port, 'rx_priority0_dropped'), dropped, 'xstat rx_priority0_dropped');
    t.equal(xstat(port, 'rx_total_missed_packets'), dropped, 'xstat rx_total_missed_packets');
    freeAll(rxAll(port, 0));
    t.equal(statsGet(port).ipackets, 10 + avail, 'the frames that fitted');
    // with SRRCTL.DROP_EN the queue drops by itself (QPRDC) instead of filling the packet buffer
    bringUp(1, {}, NB, true);
    t.ok(sim.peek(R.SRRCTL(0)) & R.SRRCTL_DROP_EN, 'SRRCTL.DROP_EN with RxConf.dropEn');
    statsReset(port);
    let d2 = 0;
    for (let i = 0; i < NB + 5; i++) if (!sim.receive(rawFrame(64, i)).ok) d2++;
    t.equal(d2, 6, 'ring of NB - 1 full');
    t.equal(xstat(port, 'rx_q0_dropped_hw'), 6, 'QPRDC(0) counts them');
    t.equal(statsGet(port).imissed, 0, 'not the packet buffer\'s MPC');
    freeAll(rxAll(port, 0));
    bringUp(1);
    t.same(sim.violations, [], 'no violation');
  });

  t.test('a 32-bit counter wraps while the port runs; the 64-bit statistic stays right', async (t) => {
    statsReset(port);
    // the sim counts like the hardware: a 32-bit register wraps
    sim.preload(R.QPTC(0), 0xfffffffe);
    t.equal(txFrames(port, 0, pool, [rawFrame(64, 1, PEER_MAC), rawFrame(64, 2, PEER_MAC), rawFrame(64, 3, PEER_MAC)]), 3);
    t.equal(sim.peek(R.QPTC(0)), 1, 'QPTC(0) wrapped in the hardware register');
    statsReset(port);
    // GPTC (opackets) starts 5 short of 2^32; the poll timer reads it before it would wrap
    sim.preload(R.GPTC, 2 ** 32 - 5);
    await sleep(1300);
    t.equal(sim.peek(R.GPTC), 0, 'the statistics timer read (and so cleared) GPTC');
    t.equal(txFrames(port, 0, pool, Array.from({ length: 10 }, (_, i) => rawFrame(64, i, PEER_MAC))), 10);
    t.equal(sim.peek(R.GPTC), 10, 'the register counts on from 0');
    t.equal(statsGet(port).opackets, 2 ** 32 + 5, 'opackets = 2^32 + 5: past 32 bits, nothing lost');
    // a 36-bit byte counter near its top
    statsReset(port);
    sim.preload(R.GOTCL, 2 ** 36 - 100);
    await sleep(1300);
    txFrames(port, 0, pool, [rawFrame(96, 1, PEER_MAC)]);
    t.equal(statsGet(port).obytes, 2 ** 36 - 100 + 100 - 4 * 1, 'GOTC near 2^36 accumulated into obytes (less the FCS)');
  });

  t.test('promiscuous, all-multicast, unicast filters', async (t) => {
    const other = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    t.equal(sim.receive(rawFrame(80, 1, other)).reason, 'filtered', 'foreign unicast filtered');
    t.equal(sim.receive(rawFrame(80, 1, [0x01, 0, 0x5e, 0, 0, 1])).reason, 'filtered', 'multicast filtered');
    t.ok(sim.receive(rawFrame(80, 1, BCAST)).ok, 'broadcast accepted (BAM)');
    promiscuousEnable(port);
    t.equal(sim.peek(R.FCTRL) & (R.FCTRL_UPE | R.FCTRL_MPE), R.FCTRL_UPE | R.FCTRL_MPE, 'FCTRL.UPE | MPE');
    t.ok(sim.receive(rawFrame(80, 2, other)).ok, 'foreign unicast accepted in promiscuous mode');
    promiscuousDisable(port);
    allmulticastEnable(port);
    t.equal(sim.peek(R.FCTRL) & (R.FCTRL_UPE | R.FCTRL_MPE), R.FCTRL_MPE, 'FCTRL.MPE');
    t.ok(sim.receive(rawFrame(80, 3, [0x01, 0, 0x5e, 0, 0, 1])).ok, 'multicast accepted');
    allmulticastDisable(port);
    const idx = macAddrAdd(port, other);
    t.equal(idx, 1, 'filter 1');
    t.equal(sim.peek(R.RAH(1)) >>> 0, (0x44 | (0x55 << 8) | R.RAH_AV) >>> 0, 'RAH(1) valid');
    t.ok(sim.receive(rawFrame(80, 4, other)).ok, 'the added address is accepted');
    freeAll(rxAll(port, 0));
    t.same(sim.violations, [], 'no violation');
  });

  t.test('stop returns every mbuf, start again works', async (t) => {
    sim.autoTx = false; // leave descriptors in flight
    t.equal(txFrames(port, 0, pool, Array.from({ length: 5 }, (_, i) => rawFrame(64, i, PEER_MAC))), 5);
    sim.receive(rawFrame(64, 9));
    devStop(port);
    sim.autoTx = true;
    t.equal(pool.availCount(), POOL_N, 'pool full again');
    t.equal(sim.peek(R.RXCTRL) & R.RXCTRL_RXEN, 0, 'RXCTRL.RXEN off');
    t.equal(sim.peek(R.RXDCTL(0)) & R.RXDCTL_ENABLE, 0, 'RX queue disabled');
    t.equal(sim.peek(R.TXDCTL(0)) & R.TXDCTL_ENABLE, 0, 'TX queue disabled');
    t.equal(rxBurst(port, 0, new Uint32Array(4), 4), 0, 'a stopped port receives nothing');
    devStart(port);
    t.equal(pool.availCount(), POOL_N - NB);
    sim.receive(rawFrame(128, 3));
    const m = rxAll(port, 0);
    t.equal(m.length, 1, 'receives after restart');
    t.same(packetBytes(m[0]), rawFrame(128, 3));
    freeAll(m);
    sim.clearSent();
    t.equal(txFrames(port, 0, pool, [rawFrame(64, 1, PEER_MAC)]), 1);
    t.equal(sim.sent.length, 1, 'sends after restart');
    t.same(sim.violations, [], 'no violation');
  });

  t.test('close: DMA off, NIC reset, every mbuf back', async (t) => {
    const resets = sim.resets;
    devClose(port);
    t.equal(pool.availCount(), POOL_N, 'no mbuf lost');
    t.notOk(sim.busMaster, 'bus mastering off');
    t.ok(sim.closed, 'device released');
    t.equal(sim.resets, resets + 1, 'the NIC was reset');
    t.equal(sim.peek(R.RXCTRL) & R.RXCTRL_RXEN, 0, 'receiver off');
    t.equal(sim.peek(R.DMATXCTL) & R.DMATXCTL_TE, 0, 'transmit DMA off');
    t.equal(sim.peek(R.CTRL_EXT) & R.CTRL_EXT_DRV_LOAD, 0, 'DRV_LOAD cleared');
    t.equal(sim.receive(rawFrame(64, 1)).ok, false, 'nothing is received any more');
    await sleep(1100); // the statistics timer must be gone too
    t.same(sim.violations, [], 'no violation, and no register access after release');
    sim.release();
  });

  for (const [dev, family, speed, speeds] of [
    [0x1528, 'X540', 1000, [100, 1000, 10000]],
    [0x1563, 'X550', 2500, [100, 1000, 2500, 5000, 10000]],
  ] as Array<[number, string, number, number[]]>) {
    t.test(`${family}: bring-up, link from LINKS, RX and TX`, async (t) => {
      const bdf = `0000:06:00.${dev & 7}`;
      const s = new IxgbeSim({ deviceId: dev, mac: [0x52, 0x54, 0, 0x55, 0, dev & 0xff], linkSpeed: speed });
      sims.set(bdf, s);
      const p = ethDevAllocate(bdf, pmd.probePci!(bdf, null as unknown as Vfio), pmd);
      t.same(devInfoGet(p).speedCapa, speeds, 'speed capabilities');
      t.equal(s.anRestarts, 0, 'AUTOC autonegotiation not touched (the PHY negotiates)');
      t.notOk(s.log.some((e) => e.w && e.reg === R.AUTOC), 'AUTOC never written');
      t.same(linkGet(p, true), { up: true, speed, fullDuplex: true, autoneg: true }, `link up at ${speed} Mb/s`);
      if (family === 'X550') {
        s.setLink(true, 5000);
        t.equal(linkGet(p, false).speed, 5000, '5 Gb/s from LINKS.SPEED_NON_STD');
      }
      devConfigure(p, 1, 1);
      rxQueueSetup(p, 0, 64, 0, null, pool);
      txQueueSetup(p, 0, 64, 0, null);
      devStart(p);
      const f = ipv4Frame({ proto: 'tcp', dstMac: [0x52, 0x54, 0, 0x55, 0, dev & 0xff] });
      t.ok(s.receive(f).ok);
      const m = rxAll(p, 0);
      t.equal(m.length, 1);
      t.same(packetBytes(m[0]), f);
      freeAll(m);
      t.equal(txFrames(p, 0, pool, [rawFrame(70, 1, PEER_MAC)]), 1);
      t.equal(s.sent.length, 1);
      devClose(p);
      t.equal(pool.availCount(), POOL_N, 'no mbuf lost');
      t.same(s.violations, [], 'no violation');
      s.release();
    });
  }

  t.test('the simulator catches broken preconditions', async (t) => {
    const s = new IxgbeSim();
    const r = new Regs(s.addr, BAR_LEN);
    const expectRule = (rule: Rule, what: string, section: string) => {
      const v = s.broken(rule);
      t.ok(v.length > 0, `${what}: ${rule}`);
      t.match(v[0]?.section ?? '', section, `cites ${section}`);
    };
    r.wr(R.CTRL, R.CTRL_RST);
    expectRule('reset-unmasked', 'reset with interrupts unmasked', '4.6.3.1');
    r.wr(R.FCTRL, R.FCTRL_BAM);
    expectRule('access-during-reset', 'register written before EEC.ARD / DMAIDONE were seen', '4.6.3');
    expectRule('unmasked-after-reset', 'no EIMC after the reset', '4.6.3.1');
    // a proper reset, then ring mistakes
    s.violations.length = 0;
    r.wr(R.EIMC, R.EIMC_ALL);
    r.wr(R.CTRL, R.CTRL_RST);
    r.waitFor(R.CTRL, R.CTRL_RST_MASK, 0, 20);
    r.wr(R.EIMC, R.EIMC_ALL);
    r.waitFor(R.EEC, R.EEC_ARD, R.EEC_ARD, 20);
    r.waitFor(R.RDRXCTL, R.RDRXCTL_DMAIDONE, R.RDRXCTL_DMAIDONE, 20);
    t.same(s.violations, [], 'a by-the-book reset is clean');
    s.access('x').setBusMaster(true);
    const ring = memzoneReserve('ixgbe_neg_ring', 64 * 16, { align: 4096 });
    r.wr64(R.RDBAL(0), R.RDBAH(0), ring.iova);
    r.wr(R.RDLEN(0), 64 * 16);
    r.wr(R.RDT(0), 5);
    expectRule('rx-tail-before-enable', 'RDT bumped on a disabled queue', '4.6.7');
    s.violations.length = 0;
    r.wr(R.RXDCTL(0), R.RXDCTL_ENABLE);
    r.wr(R.RDT(0), 5);
    expectRule('rx-tail-before-enable', 'RDT bumped before RXDCTL.ENABLE was read back', '4.6.7');
    r.wr(R.RDBAL(0), ring.iova >>> 0);
    expectRule('ring-write-while-enabled', 'RDBAL written while the queue is enabled', '4.6.7.1');
    r.wr(R.RDLEN(1), 100);
    r.wr(R.RXDCTL(1), R.RXDCTL_ENABLE);
    expectRule('ring-geometry', 'RDLEN not a multiple of 128', '7.1.9');
    r.wr64(R.RDBAL(2), R.RDBAH(2), 0x10);
    r.wr(R.RDLEN(2), 128);
    r.wr(R.RXDCTL(2), R.RXDCTL_ENABLE);
    expectRule('dma-outside-memory', 'ring outside EAL memory', 'IOMMU');
    r.wr(R.RXCTRL, R.RXCTRL_RXEN);
    expectRule('rxen-without-secrx-halt', 'RXEN without halting the security RX path', '4.6.7');
    r.wr(R.RETA(0), 0x03030303);
    r.wr(R.MRQC, R.MRQC_RSSEN | R.MRQC_RSS_FIELD_IPV4);
    expectRule('rss-disabled-queue', 'RSS on with RETA naming disabled queues', '7.1.2.8');
    r.wr(R.HLREG0, 0);
    r.wr(R.RXCTRL, 0);
    r.wr(R.RXCTRL, R.RXCTRL_RXEN);
    expectRule('crc-strip-mismatch', 'HLREG0 and RDRXCTL disagree on CRC stripping', '4.6.7');
    // TX
    r.wr(R.MTQC, 0);
    expectRule('mtqc-without-arbdis', 'MTQC with the arbiter running', '4.6.11.3.4');
    const tring = memzoneReserve('ixgbe_neg_tring', 64 * 16, { align: 4096 });
    r.wr64(R.TDBAL(0), R.TDBAH(0), tring.iova);
    r.wr(R.TDLEN(0), 64 * 16);
    r.wr(R.TXDCTL(0), R.TXDCTL_ENABLE);
    expectRule('txq-before-te', 'TXDCTL.ENABLE before DMATXCTL.TE', '4.6.8');
    r.waitFor(R.TXDCTL(0), R.TXDCTL_ENABLE, R.TXDCTL_ENABLE, 5);
    const u32 = mem().u32;
    const w = tring.off >> 2;
    u32[w] = tring.iova >>> 0; // any bytes of EAL memory will do as frame data
    u32[w + 1] = Math.floor(tring.iova / 2 ** 32);
    u32[w + 2] = (60 | (1 << 24) | (1 << 29) | (3 << 20)) >>> 0;
    u32[w + 3] = (60 << 14) | 1; // STA.DD left set
    r.wr(R.TDT(0), 1);
    expectRule('tx-desc-dd-set', 'a TX descriptor handed over with DD set', '7.2.3.2.4');
    r.wr(R.DMATXCTL, R.DMATXCTL_TE);
    u32[w + 6] = (60 | (1 << 24) | (1 << 29) | (3 << 20)) >>> 0;
    u32[w + 7] = 50 << 14; // PAYLEN 50 for 60 bytes of data
    u32[w + 4] = u32[w];
    u32[w + 5] = u32[w + 1];
    r.wr(R.TDT(0), 2);
    s.stepTx(0);
    expectRule('tx-paylen', 'PAYLEN not the packet length', '7.2.3.2.4');
    s.access('x').close();
    r.rd(R.STATUS);
    expectRule('access-after-release', 'a register read after release', 'released');
    memzoneFree('ixgbe_neg_ring');
    memzoneFree('ixgbe_neg_tring');
    s.release();
  });
});

t.test('probe rejects a device of another family', async (t) => {
  await ealInit(['--no-huge', '-m', '32', '-l', '0']);
  t.teardown(ealCleanup);
  const s = new IxgbeSim({ deviceId: 0x10d3 }); // an 82574's ID
  setPciAccessProvider((bdf) => s.access(bdf));
  t.teardown(() => setPciAccessProvider(null));
  t.throws(() => pmd.probePci!('0000:07:00.0', null as unknown as Vfio), /not one net_ixgbe drives/);
  t.ok(s.closed, 'the function is released again');
  s.release();
});

