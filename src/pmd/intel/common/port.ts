// The control half every Intel family shares (the main lcore): queue memory keyed by queue, arming RX rings with
// mbufs, handing every mbuf back on stop, queue specs for the lcores, start/stop in the order the datasheets give,
// RSS state, statistics polling, close with DMA off.
//
// A family (e1000e/, igb/, ixgbe/) extends IntelPort with its register table and the hw* hooks: reset, MAC, link,
// the global RX/TX set-up around the per-queue one, RSS registers, MTU, receive modes. The order start() follows:
//   hwRxConfigure()                      global RX off and configured (descriptor type, RSS, checksum, VLAN, MTU)
//   per RX queue: arm, hwRxQueueInit()   base/length/head/tail registers, queue enable where the family has one
//   hwRxEnable()                         receiver on
//   per RX queue: RDT = nb - 1           the ring goes to the NIC
//   hwTxConfigure(), per TX queue hwTxQueueInit(), hwTxEnable()
// (with intrConf.rxq / lsc, first of all: eventfds bound to MSI-X vectors through VFIO, hwIntrConfigure(); below)
//
// Interrupts (RX queue interrupts, DPDK's rte_eth_dev_rx_intr_*): MSI-X only, one vector per RX queue (vector q for
// queue q) and one for link status (vector nbRxq), each bound to an eventfd through VFIO. Queue vectors start masked
// and auto-clear when they fire (EIAC), so a fired vector stays quiet until the polling lcore unmasks it again
// (RxQueue.intrEnable: one register write of the queue's bit, IntrRegs below).
import { mem, memzoneReserve, memzoneLookup, memzoneFree } from '../../../eal/memory.js';
import { log } from '../../../eal/log.js';
import type { Mempool } from '../../../mempool/mempool.js';
import { M, pktmbufFree, pktmbufFreeBulk, PKTMBUF_HEADROOM } from '../../../mempool/mbuf.js';
import {
  RX_OFFLOAD_VLAN_STRIP, RX_OFFLOAD_CHECKSUM, RX_OFFLOAD_RSS_HASH,
  type EthDevOps, type DevInfo, type EthConf, type RxConf, type TxConf, type Link, type HwStats, type XStat,
  type RssConf, type Reta, type RxIntrSource,
} from '../../driver.js';
import type { PciDeviceAccess } from '../../pci/access.js';
import type { IntelDevice } from '../devices.js';
import { DESC_BYTES, DESC_WORDS, type RxCodecName, type TxCodecName } from './codec.js';
import {
  STATE_BYTES, RXS_NEXT, RXS_HOLD, RXS_FIRST, RXS_LAST, TXS_TAIL, TXS_CLEAN, TXS_FREE, TX_BATCH, rxSwBytes, txSwBytes,
  type IntelRxSpec, type IntelTxSpec,
} from './layout.js';
import { Regs } from './regs.js';
import { delayMs } from '../../../eal/lcore.js';
import { MsixEventfds } from '../../pci/msix.js';
import { HwStatsReader, type StatReg } from './stats.js';
import { DEFAULT_RSS_KEY, defaultReta } from './rss.js';

/** Byte offsets of one queue's ring registers. */
export interface RingRegs {
  bal: number;
  bah: number;
  len: number;
  head: number;
  tail: number;
}

/** Where a family keeps its RSS registers. */
export interface RssRegs {
  mrqc: number;
  rssrk(i: number): number;
  reta(i: number): number;
}

/** Where the data half masks and unmasks RX queue q's vector: `bit` written to `set` (unmask) or `clear` (mask). */
export interface IntrRegs {
  set: number;
  clear: number;
  bit: number;
}

interface RxQ { q: number; nb: number; ring: string; sw: string; pool: Mempool; conf: RxConf; on: boolean }
interface TxQ { q: number; nb: number; ring: string; sw: string; freeThresh: number; conf: TxConf; on: boolean }

export const ETHER_OVERHEAD = 18;
export const VLAN_TAG = 4;
const DEFAULT_TX_FREE_THRESH = 32;

/** What a family declares about itself. */
export interface FamilyTraits {
  driver: string;
  rxCodec: RxCodecName;
  txCodec: TxCodecName;
  /** receive buffer size the NIC is programmed with (bytes): frames longer than this span descriptors */
  rxBufSize: number;
  maxRxPktLen: number;
  retaSize: number;
  hashKeySize: number;
  flowTypeRssOffloads: number;
  rxOffloadCapa: number;
  txOffloadCapa: number;
  maxMacAddrs: number;
  speedCapa: number[];
  descMax: number;
  /** RX ring sizes: multiples of this (RDLEN is in 128-byte units: 8 descriptors) */
  rxDescAlign: number;
  statRegs: readonly StatReg[];
  /** rx/txQueueStart and Stop of single queues (the 82574 has no per-queue enable) */
  perQueueStart: boolean;
}

export abstract class IntelPort implements EthDevOps {
  readonly driverName: string;
  readonly hwCountsPackets = true;
  protected readonly r: Regs;
  protected readonly stats: HwStatsReader;
  protected readonly mac: Uint8Array;
  protected nbRxq = 0;
  protected nbTxq = 0;
  protected conf: EthConf = {};
  protected promisc = false;
  protected allmulti = false;
  protected rssKey: number[] = [...DEFAULT_RSS_KEY];
  protected rssHf = 0;
  protected reta: number[] = [];
  protected mtu = 1500;
  private readonly rxqs: Array<RxQ | undefined> = [];
  private readonly txqs: Array<TxQ | undefined> = [];
  protected started = false;
  private closed = false;
  /** eventfds of the MSI-X vectors while started with interrupts: RX queue q's at q, link status at nbRxq */
  private readonly vectors = new MsixEventfds();

  constructor(
    protected readonly name: string,
    protected readonly dev: PciDeviceAccess,
    protected readonly model: IntelDevice,
    protected readonly traits: FamilyTraits,
    minBarLen: number,
  ) {
    this.driverName = traits.driver;
    if (dev.bar0.len < minBarLen) {
      throw new Error(`${traits.driver} ${name}: BAR 0 is ${dev.bar0.len} bytes, the ${model.name} has ${minBarLen}`);
    }
    this.r = new Regs(dev.bar0.addr, dev.bar0.len, dev.mmioHook ?? null);
    this.stats = new HwStatsReader(this.r, traits.statRegs);
    this.reta = defaultReta(traits.retaSize, 1);
    this.hwReset();
    this.mac = this.hwReadMac();
    this.hwInit();
    this.stats.reset();
    this.stats.start();
    log(traits.driver.replace(/^net_/, '')).info({ dev: name, model: model.name, mac: Array.from(this.mac, (b) => b.toString(16).padStart(2, '0')).join(':') },
      `${model.name} probed`);
  }

  // ---- what a family provides --------------------------------------------------------------------------------
  /** Global reset, DMA quiesced first; ends with interrupts masked. */
  protected abstract hwReset(): void;
  protected abstract hwReadMac(): Uint8Array;
  /** After reset: link set-up, multicast table cleared, receive address 0 valid, statistics cleared. */
  protected abstract hwInit(): void;
  protected abstract rxRing(q: number): RingRegs;
  protected abstract txRing(q: number): RingRegs;
  protected abstract hwRxConfigure(): void;
  protected abstract hwRxQueueInit(q: number): void;
  protected abstract hwRxEnable(): void;
  protected abstract hwRxDisable(): void;
  protected abstract hwTxConfigure(): void;
  protected abstract hwTxQueueInit(q: number): void;
  protected abstract hwTxEnable(): void;
  protected abstract hwTxDisable(): void;
  /** Per-queue enable off, polled until the NIC acknowledges (families with perQueueStart). */
  protected hwRxQueueDisable(_q: number): void {}
  protected hwTxQueueDisable(_q: number): void {}
  protected abstract hwLink(): Link;
  protected abstract hwRxModes(): void;
  /** RSS key, hash types and RETA into the registers (called with RX configured). */
  protected abstract hwRss(): void;
  protected abstract hwMacFilter(index: number, mac: Uint8Array | null): void;
  /** Puts the NIC back in reset before the device is released. */
  protected abstract hwShutdown(): void;
  /** RX queue q's interrupt mask registers; null: the family has no RX interrupts in pktio. */
  protected rxIntrRegs(_q: number): IntrRegs | null {
    return null;
  }
  /**
   * MSI-X routing with MSI-X already enabled: RX queue q -> vector q for each of `rxqs` (masked, auto-clearing),
   * link status -> vector `lscVector` (unmasked) when `lsc`, throttling.
   */
  protected hwIntrConfigure(_rxqs: number[], _lscVector: number, _lsc: boolean): void {}
  /** Every interrupt cause masked and unrouted (before the vectors are unbound). */
  protected hwIntrOff(): void {}

  // ---- helpers for families ----------------------------------------------------------------------------------
  protected rxOffloads(q?: number): number {
    const port = this.conf.rxmode?.offloads ?? 0;
    return q === undefined ? port : port | (this.rxqs[q]?.conf.offloads ?? 0);
  }

  protected rssOn(): boolean {
    return this.conf.rxmode?.mqMode === 'rss' && this.rssHf !== 0;
  }

  /** Largest frame to accept, FCS included, plus room for one VLAN tag (as the NICs count LPE frames). */
  protected maxFrame(): number {
    return Math.min(this.mtu + ETHER_OVERHEAD + VLAN_TAG, this.traits.maxRxPktLen);
  }

  /** Does the NIC strip VLAN tags on queue q (so the RX loop must report them)? Families where one switch does
   * both strip and insert (the 82574's CTRL.VME) override this. */
  protected stripsVlan(q: number): boolean {
    return (this.rxOffloads(q) & RX_OFFLOAD_VLAN_STRIP) !== 0;
  }

  /** Ring IOVA and descriptor count of a set-up RX / TX queue. */
  protected rxRingOf(q: number): { iova: number; nb: number } {
    const x = this.rxqs[q]!;
    return { iova: memzoneLookup(x.ring)!.iova, nb: x.nb };
  }

  protected txRingOf(q: number): { iova: number; nb: number } {
    const x = this.txqs[q]!;
    return { iova: memzoneLookup(x.ring)!.iova, nb: x.nb };
  }

  /**
   * RSS into the registers every family has (key in RSSRK, byte 0 in the low byte; RETA as 32 registers of four
   * one-byte entries, `entry` encoding a queue the family's way; MRQC last, with the hash fields of this.rssHf
   * from `fields` and the family's `enable` bits, so hashing starts with the table in place). MRQC 0: RSS off.
   */
  protected programRss(regs: RssRegs, entry: (q: number) => number, fields: ReadonlyArray<[number, number]>, enable: number): void {
    const r = this.r;
    if (!this.rssOn()) {
      r.wr(regs.mrqc, 0);
      return;
    }
    const k = this.rssKey;
    for (let i = 0; i < this.traits.hashKeySize / 4; i++) {
      r.wr(regs.rssrk(i), (k[i * 4] | (k[i * 4 + 1] << 8) | (k[i * 4 + 2] << 16) | (k[i * 4 + 3] << 24)) >>> 0);
    }
    for (let i = 0; i < this.traits.retaSize / 4; i++) {
      let v = 0;
      for (let j = 0; j < 4; j++) v |= (entry(this.reta[i * 4 + j]) & 0xff) << (j * 8);
      r.wr(regs.reta(i), v >>> 0);
    }
    const hf = fields.reduce((a, [type, bits]) => ((this.rssHf & type) !== 0 ? a | bits : a), 0);
    r.wr(regs.mrqc, (hf | enable) >>> 0);
  }

  /** Promiscuous / all-multicast into a receive control register's unicast and multicast promiscuous bits. */
  protected programRxModes(reg: number, upe: number, mpe: number): void {
    const v = this.r.rd(reg) & ~(upe | mpe);
    this.r.wr(reg, v | (this.promisc ? upe | mpe : 0) | (this.allmulti ? mpe : 0));
  }

  /** Programs base, length, head and tail of a ring (the common part of hw*QueueInit). */
  protected programRing(regs: RingRegs, iova: number, nb: number): void {
    this.r.wr64(regs.bal, regs.bah, iova);
    this.r.wr(regs.len, nb * DESC_BYTES);
    this.r.wr(regs.head, 0);
    this.r.wr(regs.tail, 0);
  }

  protected rxQueuesOn(): number[] {
    return this.rxqs.filter((x): x is RxQ => x !== undefined && x.on).map((x) => x.q);
  }

  protected txQueuesOn(): number[] {
    return this.txqs.filter((x): x is TxQ => x !== undefined && x.on).map((x) => x.q);
  }

  private live(): void {
    if (this.closed) throw new Error(`${this.driverName} ${this.name}: the port is closed`);
  }

  // ---- ethdev ops --------------------------------------------------------------------------------------------
  infoGet(): DevInfo {
    const t = this.traits;
    return {
      driverName: t.driver, deviceName: this.name, maxRxQueues: this.model.queues, maxTxQueues: this.model.queues,
      minRxBufSize: 1024, maxRxPktLen: t.maxRxPktLen, minMtu: 68, maxMtu: t.maxRxPktLen - ETHER_OVERHEAD,
      maxMacAddrs: t.maxMacAddrs, rxDescLim: { nbMax: t.descMax, nbMin: 64, nbAlign: t.rxDescAlign },
      txDescLim: { nbMax: t.descMax, nbMin: 64, nbAlign: TX_BATCH }, speedCapa: t.speedCapa, pciAddr: this.dev.bdf,
      defaultRxRingSize: 512, defaultTxRingSize: 512, rxOffloadCapa: t.rxOffloadCapa, txOffloadCapa: t.txOffloadCapa,
      retaSize: t.retaSize, hashKeySize: t.hashKeySize, flowTypeRssOffloads: t.flowTypeRssOffloads,
    };
  }

  configure(nbRxq: number, nbTxq: number, conf: EthConf): void {
    this.live();
    if (conf.lpbkMode) throw new Error(`${this.driverName} ${this.name}: loopback mode ${conf.lpbkMode} is not supported`);
    if ((conf.intrConf?.rxq || conf.intrConf?.lsc) && this.rxIntrRegs(0) === null) {
      throw new Error(`${this.driverName} ${this.name}: interrupts (intrConf) are not supported by ${this.driverName}: configure without intrConf and poll`);
    }
    this.nbRxq = nbRxq;
    this.nbTxq = nbTxq;
    this.conf = conf;
    this.mtu = conf.rxmode?.mtu ?? 1500;
    const rss = conf.rxAdvConf?.rssConf;
    this.rssHf = conf.rxmode?.mqMode === 'rss' ? rss?.hf ?? this.traits.flowTypeRssOffloads : 0;
    if (rss?.key) this.rssKey = Array.from(rss.key);
    this.reta = defaultReta(this.traits.retaSize, nbRxq);
  }

  private zone(kind: string, q: number): string {
    return `${this.driverName}_${this.name}_${kind}${q}`;
  }

  private freeZone(name: string): void {
    if (memzoneLookup(name)) memzoneFree(name);
  }

  private bar(): { bar: string; barLen: number } {
    return { bar: this.dev.bar0.addr.toString(), barLen: this.dev.bar0.len };
  }

  rxQueueSetup(q: number, nb: number, conf: RxConf, pool: Mempool, portId: number): IntelRxSpec {
    this.live();
    const room = pool.dataRoom - PKTMBUF_HEADROOM;
    if (room < this.traits.rxBufSize) {
      throw new Error(`${this.driverName} ${this.name}: mbufs of pool '${pool.name}' hold ${room} bytes after the headroom; ` +
        `the ${this.model.name} is programmed for ${this.traits.rxBufSize}-byte buffers (use the default data room, 2176)`);
    }
    this.releaseRxq(q);
    const ring = this.zone('rxr', q);
    const sw = this.zone('rxs', q);
    memzoneReserve(ring, nb * DESC_BYTES, { align: 4096, contig: true });
    memzoneReserve(sw, rxSwBytes(nb), { align: 64 });
    this.rxqs[q] = { q, nb, ring, sw, pool, conf, on: conf.deferredStart !== true };
    const off = this.rxOffloads(q);
    return {
      driver: this.driverName, port: portId, queue: q, ...this.bar(), ring: memzoneLookup(ring)!.off, sw: memzoneLookup(sw)!.off,
      nb, pool: pool.name, rdt: this.rxRing(q).tail, codec: this.traits.rxCodec, headroom: PKTMBUF_HEADROOM,
      intr: this.conf.intrConf?.rxq ? this.rxIntrRegs(q) : null,
      vlanStrip: this.stripsVlan(q), cksum: (off & RX_OFFLOAD_CHECKSUM) !== 0,
      rssHash: this.conf.rxmode?.mqMode === 'rss' || (off & RX_OFFLOAD_RSS_HASH) !== 0,
    };
  }

  txQueueSetup(q: number, nb: number, conf: TxConf, portId: number): IntelTxSpec {
    this.live();
    if (nb % TX_BATCH !== 0) throw new Error(`${this.driverName} ${this.name}: ${nb} TX descriptors: must be a multiple of ${TX_BATCH}`);
    const want = conf.freeThresh ?? DEFAULT_TX_FREE_THRESH;
    const freeThresh = Math.max(1, Math.min(want, nb - 1 - TX_BATCH));
    this.releaseTxq(q);
    const ring = this.zone('txr', q);
    const sw = this.zone('txs', q);
    memzoneReserve(ring, nb * DESC_BYTES, { align: 4096, contig: true });
    memzoneReserve(sw, txSwBytes(nb), { align: 64 });
    this.txqs[q] = { q, nb, ring, sw, freeThresh, conf, on: conf.deferredStart !== true };
    return {
      driver: this.driverName, port: portId, queue: q, ...this.bar(), ring: memzoneLookup(ring)!.off, sw: memzoneLookup(sw)!.off,
      nb, tdt: this.txRing(q).tail, codec: this.traits.txCodec, freeThresh,
    };
  }

  private releaseRxq(q: number): void {
    const x = this.rxqs[q];
    if (!x) return;
    this.freeZone(x.ring);
    this.freeZone(x.sw);
    this.rxqs[q] = undefined;
  }

  private releaseTxq(q: number): void {
    const x = this.txqs[q];
    if (!x) return;
    this.freeZone(x.ring);
    this.freeZone(x.sw);
    this.txqs[q] = undefined;
  }

  queueRelease(): void {
    if (this.started) this.stop();
    for (let q = 0; q < this.rxqs.length; q++) this.releaseRxq(q);
    for (let q = 0; q < this.txqs.length; q++) this.releaseTxq(q);
  }

  /** Fills an RX ring with fresh mbufs (read-format descriptors) and resets its state words. */
  private armRx(x: RxQ): void {
    const r = mem();
    const ring = memzoneLookup(x.ring)!;
    const sw = memzoneLookup(x.sw)!;
    const bufs = new Uint32Array(x.nb);
    if (!x.pool.getBulk(bufs, x.nb, 0)) {
      throw new Error(`${this.driverName} ${this.name}: pool '${x.pool.name}' has ${x.pool.availCount()} free mbufs, ` +
        `RX queue ${x.q} needs ${x.nb} (give the pool more mbufs than all RX + TX descriptors + bursts in flight)`);
    }
    const u32 = r.u32;
    const rw = ring.off >> 2;
    const sh = (sw.off + STATE_BYTES) >> 2;
    for (let i = 0; i < x.nb; i++) {
      const m = bufs[i];
      const iova = u32[m + M.BUF_IOVA_HI] * 4294967296 + u32[m + M.BUF_IOVA_LO] + PKTMBUF_HEADROOM;
      u32[rw + i * DESC_WORDS] = iova >>> 0;
      u32[rw + i * DESC_WORDS + 1] = Math.floor(iova / 4294967296);
      u32[rw + i * DESC_WORDS + 2] = 0;
      u32[rw + i * DESC_WORDS + 3] = 0;
      u32[sh + i] = m;
    }
    const st = sw.off >> 2;
    r.i32.fill(0, st, st + STATE_BYTES / 4);
    r.i32[st + RXS_NEXT] = 0;
    r.i32[st + RXS_HOLD] = 0;
  }

  private resetTx(x: TxQ): void {
    const r = mem();
    const ring = memzoneLookup(x.ring)!;
    const sw = memzoneLookup(x.sw)!;
    r.u8.fill(0, ring.off, ring.off + x.nb * DESC_BYTES);
    r.u8.fill(0, sw.off, sw.off + txSwBytes(x.nb));
    const st = sw.off >> 2;
    r.i32[st + TXS_TAIL] = 0;
    r.i32[st + TXS_CLEAN] = 0;
    r.i32[st + TXS_FREE] = x.nb - 1;
  }

  /** Gives back every mbuf a queue's shadow ring holds (and an RX frame still being assembled). */
  private drain(swName: string, nb: number, rx: boolean): void {
    const r = mem();
    const sw = memzoneLookup(swName)!;
    const sh = (sw.off + STATE_BYTES) >> 2;
    const out = new Uint32Array(nb);
    let c = 0;
    for (let i = 0; i < nb; i++) {
      const m = r.u32[sh + i];
      if (m !== 0) out[c++] = m;
      r.u32[sh + i] = 0;
    }
    if (c > 0) pktmbufFreeBulk(out, c, 0);
    if (rx) {
      const first = r.i32[(sw.off >> 2) + RXS_FIRST];
      if (first !== 0) pktmbufFree(first);
      r.i32[(sw.off >> 2) + RXS_FIRST] = 0;
      r.i32[(sw.off >> 2) + RXS_LAST] = 0;
    }
  }

  private startRxQueue(x: RxQ): void {
    this.armRx(x);
    this.hwRxQueueInit(x.q);
  }

  start(): void {
    this.live();
    if (this.started) return;
    const rx = this.rxqs.filter((x): x is RxQ => x !== undefined && x.on);
    if (this.conf.intrConf?.rxq || this.conf.intrConf?.lsc) this.intrStart(rx.map((x) => x.q));
    this.dev.setBusMaster(true);
    this.hwRxConfigure();
    for (const x of rx) this.startRxQueue(x);
    this.hwRxEnable();
    for (const x of rx) this.r.wr(this.rxRing(x.q).tail, x.nb - 1);
    this.hwTxConfigure();
    for (const x of this.txqs) {
      if (x === undefined || !x.on) continue;
      this.resetTx(x);
      this.hwTxQueueInit(x.q);
    }
    this.hwTxEnable();
    this.hwRxModes();
    this.started = true;
  }

  /** Eventfds for vectors 0..nbRxq (queues, then link status), bound through VFIO, then the family's routing. */
  private intrStart(rxqs: number[]): void {
    const want = this.nbRxq + 1;
    this.vectors.bind(this.dev.irq, want, (have, noAccess) =>
      `${this.driverName} ${this.name}: interrupts need ${want} MSI-X vectors (${this.nbRxq} RX queues + link), ` +
      `the function offers ${have}${noAccess ? ' (no VFIO interrupt access)' : ''}: configure fewer RX queues or without intrConf`);
    this.hwIntrConfigure(this.conf.intrConf?.rxq ? rxqs : [], this.nbRxq, this.conf.intrConf?.lsc === true);
  }

  private intrStop(): void {
    if (!this.vectors.bound) return;
    this.hwIntrOff();
    this.vectors.release(this.dev.irq);
  }

  rxIntrSource(q: number): RxIntrSource {
    if (!this.conf.intrConf?.rxq || !this.vectors.bound || q < 0 || q >= this.nbRxq) {
      throw new Error(`${this.driverName} ${this.name}: RX queue ${q} has no interrupt: configure the port with intrConf.rxq and start it`);
    }
    return { fd: this.vectors.fd(q), kind: 'eventfd' };
  }

  /** The link-status vector's eventfd (intrConf.lsc, while started): readable after a link change. */
  lscIntrSource(): RxIntrSource {
    if (!this.conf.intrConf?.lsc || !this.vectors.bound) {
      throw new Error(`${this.driverName} ${this.name}: no link-status interrupt: configure the port with intrConf.lsc and start it`);
    }
    return { fd: this.vectors.fd(this.nbRxq), kind: 'eventfd' };
  }

  /** Lets queued frames leave (a few ms at most), stops RX and TX, gives every mbuf back. */
  stop(): void {
    if (!this.started || this.closed) return;
    this.intrStop();
    for (const q of this.txQueuesOn()) {
      const t = this.txRing(q);
      for (let i = 0; i < 10 && this.r.rd(t.head) !== this.r.rd(t.tail); i++) delayMs(1);
    }
    this.hwRxDisable();
    this.hwTxDisable();
    delayMs(2); // DMA in flight lands
    for (const x of this.rxqs) if (x?.on) this.drain(x.sw, x.nb, true);
    for (const x of this.txqs) if (x?.on) this.drain(x.sw, x.nb, false);
    for (const x of this.rxqs) {
      if (!x) continue;
      this.r.wr(this.rxRing(x.q).head, 0);
      this.r.wr(this.rxRing(x.q).tail, 0);
      x.on = x.conf.deferredStart !== true;
    }
    for (const x of this.txqs) {
      if (!x) continue;
      this.r.wr(this.txRing(x.q).head, 0);
      this.r.wr(this.txRing(x.q).tail, 0);
      x.on = x.conf.deferredStart !== true;
    }
    this.started = false;
  }

  private needPerQueue(what: string): void {
    if (!this.traits.perQueueStart) throw new Error(`${what} is not supported by ${this.driverName} (the ${this.model.name} has no per-queue enable)`);
    if (!this.started) throw new Error(`${this.driverName} ${this.name}: ${what} needs a started port`);
  }

  rxQueueStart(q: number): void {
    this.needPerQueue('rxQueueStart');
    const x = this.rxqs[q]!;
    if (x.on) return;
    this.startRxQueue(x);
    this.r.wr(this.rxRing(q).tail, x.nb - 1);
    x.on = true;
  }

  rxQueueStop(q: number): void {
    this.needPerQueue('rxQueueStop');
    const x = this.rxqs[q]!;
    if (!x.on) return;
    this.hwRxQueueDisable(q);
    this.drain(x.sw, x.nb, true);
    x.on = false;
  }

  txQueueStart(q: number): void {
    this.needPerQueue('txQueueStart');
    const x = this.txqs[q]!;
    if (x.on) return;
    this.resetTx(x);
    this.hwTxQueueInit(q);
    x.on = true;
  }

  txQueueStop(q: number): void {
    this.needPerQueue('txQueueStop');
    const x = this.txqs[q]!;
    if (!x.on) return;
    const t = this.txRing(q);
    for (let i = 0; i < 10 && this.r.rd(t.head) !== this.r.rd(t.tail); i++) delayMs(1);
    this.hwTxQueueDisable(q);
    this.drain(x.sw, x.nb, false);
    x.on = false;
  }

  close(): void {
    if (this.closed) return;
    this.stats.stop();
    this.queueRelease();
    try {
      this.hwShutdown();
      this.dev.setBusMaster(false);
    } finally {
      this.closed = true;
      this.dev.close();
    }
  }

  linkGet(wait: boolean): Link {
    this.live();
    let l = this.hwLink();
    for (let waited = 0; wait && !l.up && waited < 3000; waited += 50) {
      delayMs(50);
      l = this.hwLink();
    }
    return l;
  }

  macAddr(): Uint8Array {
    return this.mac;
  }

  setPromiscuous(on: boolean): void {
    this.live();
    this.promisc = on;
    this.hwRxModes();
  }

  setAllmulticast(on: boolean): void {
    this.live();
    this.allmulti = on;
    this.hwRxModes();
  }

  macAddrAdd(mac: Uint8Array, index: number): void {
    this.live();
    this.hwMacFilter(index, mac);
  }

  macAddrRemove(index: number): void {
    this.live();
    this.hwMacFilter(index, null);
  }

  // ---- RSS ---------------------------------------------------------------------------------------------------
  rssHashUpdate(conf: RssConf): void {
    this.live();
    if (this.traits.retaSize === 0) throw new Error(`${this.driverName}: no RSS`);
    if (conf.key) this.rssKey = Array.from(conf.key);
    this.rssHf = conf.hf;
    if (this.started) this.hwRss();
  }

  rssHashConfGet(): { key: Uint8Array; hf: number } {
    return { key: Uint8Array.from(this.rssKey), hf: this.rssHf };
  }

  retaUpdate(reta: Reta, mask?: (i: number) => boolean): void {
    this.live();
    this.reta = this.reta.map((v, i) => (mask === undefined || mask(i) ? reta[i] : v));
    if (this.started) this.hwRss();
  }

  retaQuery(): Reta {
    return [...this.reta];
  }

  mtuSet(mtu: number): void {
    this.live();
    this.mtu = mtu;
    if (this.started) this.hwRxConfigureMtu();
  }

  /** Applies this.mtu to a running receiver (LPE, maximum frame length registers). */
  protected abstract hwRxConfigureMtu(): void;

  // ---- statistics --------------------------------------------------------------------------------------------
  hwStats(): HwStats {
    this.stats.read();
    return this.hwStatsFrom();
  }

  /** The ethdev counters from the accumulated registers. */
  protected abstract hwStatsFrom(): HwStats;

  statsReset(): void {
    this.stats.reset();
  }

  xstats(): XStat[] {
    return this.stats.xstats();
  }
}
