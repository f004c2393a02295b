// The control half of net_virtio (the main lcore): probe through the PCI capabilities, feature negotiation per
// configuration, virtqueue memory and queue specs, bring-up in the order of [3.1.1], the control virtqueue (queue
// pairs, receive modes), link from the config space, stop and close by device reset.
//
// Bring-up at start() [3.1.1]: reset, ACKNOWLEDGE, DRIVER, write the chosen features, FEATURES_OK and read it back
// (the device may refuse), program every virtqueue (RX rings full of buffers), the control virtqueue, DRIVER_OK,
// then VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET and the CTRL_RX modes. stop() resets the device (it stops using the rings
// at once [2.4]), turns bus mastering off and gives every mbuf back; the next start() negotiates again.
//
// RX interrupts (intrConf.rxq; DPDK's virtio_configure_intr): MSI-X, vector 0 for configuration changes (the link,
// msix_config = 0 with intrConf.lsc, else no vector), vector q + 1 for RX queue q, each bound to an eventfd
// through VFIO after FEATURES_OK; each RX queue's queue_msix_vector written before its queue_enable and read back
// (the device answers VIRTIO_MSI_NO_VECTOR for a vector it cannot map); TX and control queues get no vector. The
// rings start with notifications suppressed; RxQueue.intrEnable lifts that for one queue (rxq.ts). stop() resets
// the device (every vector back to none), unbinds the vectors and closes the eventfds.
import { log } from '../../eal/log.js';
import type { Mempool } from '../../mempool/mempool.js';
import { PKTMBUF_HEADROOM } from '../../mempool/mbuf.js';
import {
  RX_OFFLOAD_UDP_CKSUM, RX_OFFLOAD_TCP_CKSUM, RX_OFFLOAD_SCATTER, TX_OFFLOAD_UDP_CKSUM, TX_OFFLOAD_TCP_CKSUM,
  TX_OFFLOAD_MULTI_SEGS, type EthDevOps, type DevInfo, type EthConf, type RxConf, type TxConf, type Link, type XStat,
  type RxIntrSource,
} from '../driver.js';
import { MsixEventfds } from '../pci/msix.js';
import type { PciDeviceAccess } from '../pci/access.js';
import { localMac } from '../soft/args.js';
import { delayMs } from '../../eal/lcore.js';
import { findVirtioCaps, VirtioPci } from './pci.js';
import { CtrlVq } from './ctrl.js';
import { chooseFeatures, type RingChoice } from './features.js';
import { VirtqueueMem } from './vqmem.js';
import { VQS_KICKS } from './layout.js';
import {
  STATUS_ACKNOWLEDGE, STATUS_DRIVER, STATUS_FEATURES_OK, STATUS_DRIVER_OK, STATUS_DEVICE_NEEDS_RESET, STATUS_FAILED,
  VIRTIO_F_VERSION_1, VIRTIO_F_RING_PACKED, VIRTIO_F_EVENT_IDX, VIRTIO_F_IN_ORDER, VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_MQ, VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_SPEED_DUPLEX, VIRTIO_NET_S_LINK_UP, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC,
  VIRTIO_NET_CTRL_RX_ALLMULTI, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, NET_CFG, NET_HDR_LEN, rxVq, txVq,
  VIRTIO_MSI_NO_VECTOR, has, bit, featureList, featureName,
} from './spec.js';

export const DRIVER = 'net_virtio';
const ETHER_OVERHEAD = 18;
const VLAN_TAG = 4;
/** DPDK's VIRTIO_MAX_RX_PKTLEN: the largest frame without VIRTIO_NET_F_MTU */
const MAX_RX_PKTLEN = 9728;
/** the features whose device-config fields probe reads */
const CONFIG_FEATURES = [VIRTIO_F_VERSION_1, VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_MQ, VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_MTU, VIRTIO_NET_F_SPEED_DUPLEX].reduce((a, n) => a | bit(n), 0n);
/** localMac's driver byte for virtio ports without VIRTIO_NET_F_MAC */
const MAC_TAG = 0x76;
/** MSI-X vector of configuration changes; RX queue q's is q + RX_VECTOR0 (DPDK's RTE_INTR_VEC_RXTX_OFFSET) */
const CONFIG_VECTOR = 0;
const RX_VECTOR0 = 1;

export interface VirtioOptions {
  /** ring layout: negotiated (auto), or forced as DPDK's packed_vq devarg does */
  ring?: RingChoice;
  /** accept VIRTIO_F_EVENT_IDX when offered (devarg event_idx=1; default off, as DPDK: features.ts says why) */
  eventIdx?: boolean;
}

export class VirtioPort implements EthDevOps {
  readonly driverName = DRIVER;
  readonly hwCountsPackets = false;
  private readonly pci: VirtioPci;
  private readonly offered: bigint;
  private readonly mac: Uint8Array;
  private readonly maxPairs: number;
  private readonly qmax: number;
  private readonly devMtu: number;
  private features = 0n;
  private nbRxq = 0;
  private nbTxq = 0;
  private conf: EthConf = {};
  private mtu = 1500;
  private promisc = false;
  private allmulti = false;
  private readonly rxqs: Array<VirtqueueMem | undefined> = [];
  private readonly txqs: Array<VirtqueueMem | undefined> = [];
  private ctrl: CtrlVq | null = null;
  private started = false;
  private closed = false;
  private warnedRxModes = false;
  /** eventfds of MSI-X vectors 0..nbRxq while started with intrConf.rxq / lsc (index = vector) */
  private readonly vectors = new MsixEventfds();

  constructor(private readonly name: string, private readonly dev: PciDeviceAccess, private readonly opts: VirtioOptions = {}) {
    const who = `${DRIVER} ${name}`;
    if (!dev.cfgRead8 || !dev.cfgRead16 || !dev.cfgRead32 || !dev.mapBar) throw new Error(`${who}: the PCI access lacks config-space reads or BAR maps`);
    const caps = findVirtioCaps(dev);
    if (!caps.common) {
      throw new Error(`${who}: a legacy-only virtio device (no modern virtio capabilities; QEMU: disable-modern=on): ` +
        'pktio drives virtio 1.0+ devices only; give QEMU disable-legacy=on or leave disable-modern off');
    }
    try {
      this.pci = new VirtioPci(dev, caps);
    } catch (e) {
      throw new Error(`${who}: ${(e as Error).message}`);
    }
    this.resetDevice();
    this.pci.setStatus(STATUS_ACKNOWLEDGE);
    this.pci.setStatus(STATUS_DRIVER);
    this.offered = this.pci.deviceFeatures();
    if (!has(this.offered, VIRTIO_F_VERSION_1)) {
      this.resetDevice();
      throw new Error(`${who}: the device does not offer VIRTIO_F_VERSION_1 (a legacy-only device): pktio drives virtio 1.0+ devices only`);
    }
    // the config fields pktio reads, read after writing the features they depend on, before FEATURES_OK
    // [3.1.1 step 4; VIRTIO 1.2 asks for the write first, 1.1 let the driver read for any offered feature]
    this.pci.setDriverFeatures(this.offered & CONFIG_FEATURES);
    this.mac = has(this.offered, VIRTIO_NET_F_MAC)
      ? this.pci.readConfig((d) => Uint8Array.from({ length: 6 }, (_, i) => d.rd8(NET_CFG.mac + i)))!
      : localMac(MAC_TAG, Number.parseInt(name.replace(/\D/g, '').slice(-4) || '0', 16));
    this.maxPairs = has(this.offered, VIRTIO_NET_F_MQ) && has(this.offered, VIRTIO_NET_F_CTRL_VQ)
      ? Math.max(1, this.pci.readConfig((d) => d.rd16(NET_CFG.max_virtqueue_pairs)) ?? 1) : 1;
    this.devMtu = has(this.offered, VIRTIO_NET_F_MTU) ? this.pci.readConfig((d) => d.rd16(NET_CFG.mtu)) ?? 0 : 0;
    this.qmax = this.pci.queueMax(rxVq(0));
    if (this.qmax === 0) throw new Error(`${who}: the device reports no receive virtqueue 0`);
    this.resetDevice();
    log('virtio').info({ dev: name, mac: Array.from(this.mac, (b) => b.toString(16).padStart(2, '0')).join(':'),
      pairs: this.maxPairs, queueSize: this.qmax, features: featureList(this.offered) }, 'virtio-net probed');
  }

  private who(): string {
    return `${DRIVER} ${this.name}`;
  }

  private live(): void {
    if (this.closed) throw new Error(`${this.who()}: the port is closed`);
  }

  /** Reset [2.4]; the device stops touching the rings once device_status reads 0. */
  private resetDevice(): void {
    if (!this.pci.reset()) log('virtio').warn({ dev: this.name }, 'device_status did not read 0 within 1 s of a reset');
  }

  private negotiated(n: number): boolean {
    return has(this.features, n);
  }

  private layout(): 'split' | 'packed' {
    return this.negotiated(VIRTIO_F_RING_PACKED) ? 'packed' : 'split';
  }

  // ---- ethdev ops --------------------------------------------------------------------------------------------
  infoGet(): DevInfo {
    const maxRxPktLen = this.devMtu ? this.devMtu + ETHER_OVERHEAD : MAX_RX_PKTLEN;
    const rxCsum = has(this.offered, VIRTIO_NET_F_GUEST_CSUM) ? RX_OFFLOAD_UDP_CKSUM | RX_OFFLOAD_TCP_CKSUM : 0;
    const txCsum = has(this.offered, VIRTIO_NET_F_CSUM) ? TX_OFFLOAD_UDP_CKSUM | TX_OFFLOAD_TCP_CKSUM : 0;
    return {
      driverName: DRIVER, deviceName: this.name, maxRxQueues: this.maxPairs, maxTxQueues: this.maxPairs,
      minRxBufSize: 64, maxRxPktLen, minMtu: 68, maxMtu: maxRxPktLen - ETHER_OVERHEAD, maxMacAddrs: 1,
      rxDescLim: { nbMax: this.qmax, nbMin: 16, nbAlign: 1 }, txDescLim: { nbMax: this.qmax, nbMin: 16, nbAlign: 1 },
      speedCapa: [], pciAddr: this.dev.bdf, defaultRxRingSize: this.qmax, defaultTxRingSize: this.qmax,
      rxOffloadCapa: rxCsum | (has(this.offered, VIRTIO_NET_F_MRG_RXBUF) ? RX_OFFLOAD_SCATTER : 0),
      txOffloadCapa: TX_OFFLOAD_MULTI_SEGS | txCsum, retaSize: 0, hashKeySize: 0, flowTypeRssOffloads: 0,
    };
  }

  configure(nbRxq: number, nbTxq: number, conf: EthConf): void {
    this.live();
    if (conf.lpbkMode) throw new Error(`${this.who()}: loopback mode ${conf.lpbkMode} is not supported`);
    if (conf.rxmode?.mqMode === 'rss') throw new Error(`${this.who()}: RSS is not supported (the device spreads flows over its queue pairs itself)`);
    const pairs = Math.max(nbRxq, nbTxq);
    const rxo = conf.rxmode?.offloads ?? 0;
    const txo = conf.txmode?.offloads ?? 0;
    const n = chooseFeatures(this.offered, {
      queuePairs: pairs, rxCsum: (rxo & (RX_OFFLOAD_UDP_CKSUM | RX_OFFLOAD_TCP_CKSUM)) !== 0,
      txCsum: (txo & (TX_OFFLOAD_UDP_CKSUM | TX_OFFLOAD_TCP_CKSUM)) !== 0, bigFrames: false,
      ring: this.opts.ring ?? 'auto', iommu: this.dev.iommu === true, eventIdx: this.opts.eventIdx === true,
    });
    if (n.missing !== null) {
      this.resetDevice();
      throw new Error(`${this.who()}: ${n.why}, and the device does not offer ${n.missing}`);
    }
    if (pairs > this.maxPairs) {
      throw new Error(`${this.who()}: ${pairs} queue pairs asked, the device has ${this.maxPairs} (QEMU: -netdev ...,queues=N and -device virtio-net-pci,mq=on,vectors=2N+2)`);
    }
    if (this.started) this.stop();
    this.queueRelease();
    this.features = n.features;
    this.nbRxq = nbRxq;
    this.nbTxq = nbTxq;
    this.conf = conf;
    this.mtu = conf.rxmode?.mtu ?? 1500;
  }

  /** Ring size for a request: at most the device's, a power of two for split rings [2.7]. */
  private ringSize(nb: number): number {
    const want = Math.max(1, Math.min(nb, this.qmax));
    if (this.layout() === 'packed') return want;
    let p = 1;
    while (p * 2 <= want) p *= 2;
    return p;
  }

  /** Frames this MTU admits must fit one buffer unless buffers merge. */
  private checkBuffers(pool: Mempool, mtu: number): void {
    const room = pool.dataRoom - PKTMBUF_HEADROOM;
    const frame = mtu + ETHER_OVERHEAD + VLAN_TAG;
    if (frame <= room || this.negotiated(VIRTIO_NET_F_MRG_RXBUF)) return;
    throw new Error(`${this.who()}: MTU ${mtu} frames (${frame} bytes) do not fit the ${room}-byte buffers of pool '${pool.name}', ` +
      `and the device does not offer ${featureName(VIRTIO_NET_F_MRG_RXBUF)}: give QEMU mrg_rxbuf=on or the pool larger mbufs`);
  }

  rxQueueSetup(q: number, nb: number, conf: RxConf, pool: Mempool, portId: number): unknown {
    this.live();
    this.checkBuffers(pool, this.mtu);
    if (PKTMBUF_HEADROOM < NET_HDR_LEN) throw new Error(`${this.who()}: the mbuf headroom cannot hold the ${NET_HDR_LEN}-byte net header`);
    this.rxqs[q]?.release();
    const rxo = (this.conf.rxmode?.offloads ?? 0) | (conf.offloads ?? 0);
    const x = new VirtqueueMem(this.pci, `${DRIVER}_${this.name}_rx${q}`, rxVq(q), this.ringSize(nb), this.layout(), 'rx', pool);
    this.rxqs[q] = x;
    return {
      ...x.spec(portId, q, this.negotiated(VIRTIO_F_EVENT_IDX), this.inOrder()),
      pool: pool.name, headroom: PKTMBUF_HEADROOM, mergeable: this.negotiated(VIRTIO_NET_F_MRG_RXBUF),
      cksum: (rxo & (RX_OFFLOAD_UDP_CKSUM | RX_OFFLOAD_TCP_CKSUM)) !== 0 && this.negotiated(VIRTIO_NET_F_GUEST_CSUM),
      intr: this.conf.intrConf?.rxq === true,
    };
  }

  txQueueSetup(q: number, nb: number, _conf: TxConf, portId: number): unknown {
    this.live();
    this.txqs[q]?.release();
    const x = new VirtqueueMem(this.pci, `${DRIVER}_${this.name}_tx${q}`, txVq(q), this.ringSize(nb), this.layout(), 'tx', null);
    this.txqs[q] = x;
    return {
      ...x.spec(portId, q, this.negotiated(VIRTIO_F_EVENT_IDX), this.inOrder()),
      hdrIova: x.hdrIova, hdrOff: x.hdrOff, csum: this.negotiated(VIRTIO_NET_F_CSUM),
    };
  }

  private inOrder(): boolean {
    return this.negotiated(VIRTIO_F_IN_ORDER);
  }

  queueRelease(): void {
    if (this.started) this.stop();
    for (const x of [...this.rxqs, ...this.txqs]) x?.release();
    this.rxqs.length = 0;
    this.txqs.length = 0;
  }
  // ---- bring-up and shutdown ---------------------------------------------------------------------------------
  start(): void {
    this.live();
    if (this.started) return;
    const pci = this.pci;
    this.dev.setBusMaster(true);
    try {
      this.resetDevice();
      pci.setStatus(STATUS_ACKNOWLEDGE);
      pci.setStatus(STATUS_DRIVER);
      pci.setDriverFeatures(this.features);
      pci.setStatus(STATUS_FEATURES_OK);
      if ((pci.status() & STATUS_FEATURES_OK) === 0) {
        throw new Error(`the device did not accept the features ${featureList(this.features).join(', ')} (FEATURES_OK did not stay set)`);
      }
      if (this.conf.intrConf?.rxq || this.conf.intrConf?.lsc) this.intrStart();
      const rxIntr = this.conf.intrConf?.rxq === true;
      this.rxqs.forEach((x, q) => x?.setUp(rxIntr ? q + RX_VECTOR0 : VIRTIO_MSI_NO_VECTOR));
      for (const x of this.txqs) x?.setUp(VIRTIO_MSI_NO_VECTOR);
      if (this.negotiated(VIRTIO_NET_F_CTRL_VQ)) {
        const vq = this.negotiated(VIRTIO_NET_F_MQ) ? 2 * this.maxPairs : 2;
        this.ctrl = new CtrlVq(pci, vq, this.layout(), `${DRIVER}_${this.name}_ctrl`);
      }
      pci.setStatus(STATUS_DRIVER_OK);
      const st = pci.status();
      if ((st & (STATUS_DEVICE_NEEDS_RESET | STATUS_FAILED)) !== 0 || (st & STATUS_DRIVER_OK) === 0) {
        throw new Error(`the device did not come up (device_status 0x${st.toString(16)})`);
      }
      const pairs = Math.max(this.nbRxq, this.nbTxq);
      if (pairs > 1 && !this.ctrl!.ok(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, [pairs & 0xff, pairs >> 8])) {
        throw new Error(`the device refused VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ${pairs}`);
      }
      this.started = true;
      this.applyRxModes();
      log('virtio').info({ dev: this.name, ring: this.layout(), pairs, features: featureList(this.features) }, 'virtio-net started');
    } catch (e) {
      this.started = false;
      this.shutDown();
      throw new Error(`${this.who()}: start failed: ${(e as Error).message}; the device is reset and every mbuf returned`);
    }
  }

  /**
   * Eventfds for MSI-X vectors 0..nbRxq bound through VFIO (every vector the port may use: the function's MSI-X
   * is enabled once, with all of them), then msix_config. Queue vectors follow in each queue's set-up.
   */
  private intrStart(): void {
    const want = this.nbRxq + RX_VECTOR0;
    this.vectors.bind(this.dev.irq, want, (have, noAccess) =>
      `interrupts need ${want} MSI-X vectors (configuration + ${this.nbRxq} RX queues), the function offers ${have}` +
      `${noAccess ? ' (no VFIO interrupt access)' : ''}: give QEMU -device virtio-net-pci,...,vectors=${want} or more, or configure without intrConf`);
    this.pci.setConfigVector(this.conf.intrConf?.lsc ? CONFIG_VECTOR : VIRTIO_MSI_NO_VECTOR);
  }

  /** After the reset (every vector back to none): vectors unbound, eventfds closed. */
  private intrStop(): void {
    this.vectors.release(this.dev.irq);
  }

  rxIntrSource(q: number): RxIntrSource {
    if (!this.conf.intrConf?.rxq || !this.vectors.bound || !Number.isInteger(q) || q < 0 || q >= this.nbRxq) {
      throw new Error(`${this.who()}: RX queue ${q} has no interrupt: configure the port with intrConf.rxq and start it`);
    }
    return { fd: this.vectors.fd(q + RX_VECTOR0), kind: 'eventfd' };
  }

  /** The configuration-change vector's eventfd (intrConf.lsc, while started): readable after a link change. */
  lscIntrSource(): RxIntrSource {
    if (!this.conf.intrConf?.lsc || !this.vectors.bound) {
      throw new Error(`${this.who()}: no link-status interrupt: configure the port with intrConf.lsc and start it`);
    }
    return { fd: this.vectors.fd(CONFIG_VECTOR), kind: 'eventfd' };
  }

  /** Reset (the device lets go of the rings and its vectors), DMA off, interrupts off, every mbuf back, control queue gone. */
  private shutDown(): void {
    this.resetDevice();
    this.dev.setBusMaster(false);
    this.intrStop();
    for (const x of [...this.rxqs, ...this.txqs]) x?.drain();
    this.ctrl?.release();
    this.ctrl = null;
  }

  stop(): void {
    if (!this.started || this.closed) return;
    this.started = false;
    this.shutDown();
  }

  close(): void {
    if (this.closed) return;
    try {
      this.queueRelease();
      this.resetDevice();
      this.dev.setBusMaster(false);
    } finally {
      this.closed = true;
      this.dev.close();
    }
  }

  /** The config space's link bit (VIRTIO_NET_F_STATUS; without it the link is always up [5.1.4]). */
  private linkUp(): boolean {
    if (!has(this.offered, VIRTIO_NET_F_STATUS)) return true;
    return ((this.pci.readConfig((d) => d.rd16(NET_CFG.status)) ?? 0) & VIRTIO_NET_S_LINK_UP) !== 0;
  }

  linkGet(wait: boolean): Link {
    this.live();
    let up = this.linkUp();
    for (let waited = 0; wait && !up && waited < 3000; waited += 50) {
      delayMs(50);
      up = this.linkUp();
    }
    let speed = 0;
    if (has(this.offered, VIRTIO_NET_F_SPEED_DUPLEX)) {
      const s = this.pci.readConfig((d) => d.rd32(NET_CFG.speed)) ?? 0;
      speed = s === 0xffffffff ? 0 : s;
    }
    return { up, speed: up ? speed : 0, fullDuplex: true, autoneg: false };
  }

  macAddr(): Uint8Array {
    return this.mac;
  }

  /** Promiscuous / all-multicast through VIRTIO_NET_CTRL_RX (QEMU resets a device to promiscuous). */
  private applyRxModes(): void {
    if (!this.started) return;
    if (!this.negotiated(VIRTIO_NET_F_CTRL_RX)) {
      if (!this.warnedRxModes) log('virtio').warn({ dev: this.name }, 'the device offers no VIRTIO_NET_F_CTRL_RX: its receive filter stays as the device keeps it');
      this.warnedRxModes = true;
      return;
    }
    if (!this.ctrl!.ok(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, [this.promisc ? 1 : 0]) ||
      !this.ctrl!.ok(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, [this.allmulti ? 1 : 0])) {
      throw new Error(`${this.who()}: the device refused a VIRTIO_NET_CTRL_RX command`);
    }
  }

  setPromiscuous(on: boolean): void {
    this.live();
    this.promisc = on;
    this.applyRxModes();
  }

  setAllmulticast(on: boolean): void {
    this.live();
    this.allmulti = on;
    this.applyRxModes();
  }

  mtuSet(mtu: number): void {
    this.live();
    for (const x of this.rxqs) if (x?.pool) this.checkBuffers(x.pool, mtu);
    this.mtu = mtu;
  }

  /**
   * Notifications (MMIO kicks) each queue sent since start (the bench's kicks-per-packet figure), the negotiated
   * features, and device_status as the device reads it now (0 after a reset: what a refused configuration leaves).
   */
  xstats(): XStat[] {
    const out: XStat[] = [];
    this.rxqs.forEach((x, q) => { if (x) out.push({ name: `rx_q${q}_notifications`, value: x.word(VQS_KICKS) }); });
    this.txqs.forEach((x, q) => { if (x) out.push({ name: `tx_q${q}_notifications`, value: x.word(VQS_KICKS) }); });
    out.push({ name: 'negotiated_features_lo', value: Number(this.features & 0xffffffffn) });
    out.push({ name: 'negotiated_features_hi', value: Number(this.features >> 32n) });
    out.push({ name: 'device_status', value: this.pci.status() });
    return out;
  }

  /** The negotiated features (tests, logs). */
  negotiatedFeatures(): bigint {
    return this.features;
  }
}
