// A simulated modern virtio-net PCI function for host tests, the device side of what net_virtio drives:
// - a config space whose capability list (behind a non-virtio capability) points at the common configuration,
//   notify, ISR and device configuration structures in whichever BARs the test chooses; each BAR a memzone, so
//   every thread views it like a mapped BAR;
// - the common configuration's semantics through the PciDeviceAccess.mmioHook seam: feature words by their select
//   registers, queue fields by queue_select, device_status with reset-to-0 and FEATURES_OK refused when the driver
//   accepted a feature that was not offered (or `refuse` says so);
// - the device side of split and packed virtqueues over EAL memory (an IOVA is a region offset plus the base in
//   --no-huge VA mode): TX chains read and completed (optionally in IN_ORDER batches: one used entry per batch),
//   RX buffers filled with the net header and the frame, spread over several buffers with num_buffers under
//   MRG_RXBUF; notification suppression as a device does it (EVENT_IDX's avail_event, NO_NOTIFY, the packed ring's
//   device event structure);
// - the control virtqueue (VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_RX) answered when the driver notifies it;
// - notifications counted per virtqueue: control-path ones through the hook, data-path ones by watching
//   Atomics.store on 2-byte views (layout.ts setObservableNotify);
// - MSI-X as QEMU's virtio-pci: `msixVectors` vectors (default 2 * pairs + 2), msix_config / queue_msix_vector
//   keep a vector below that and read back VIRTIO_MSI_NO_VECTOR otherwise, a reset forgets them; the vectors are
//   bound to eventfds through PciDeviceAccess.irq, and a delivered RX frame signals its queue's eventfd when the
//   driver area allows it (NO_INTERRUPT / used_event [2.7.10], the packed driver event structure [2.8.10]).
import { mem, memzoneReserve, memzoneFree } from '../../src/eal/memory.js';
import * as ffi from '../../src/eal/ffi.js';
import type { PciDeviceAccess } from '../../src/pmd/pci/access.js';
import { setObservableNotify } from '../../src/pmd/virtio/layout.js';
import * as S from '../../src/pmd/virtio/spec.js';

const TWO32 = 4294967296;

export interface SimCapPlace { bar: number; offset: number }

export interface VirtioSimOptions {
  mac?: number[];
  /** offered features (default: the set QEMU's virtio-net-pci offers with mq=on, packed=on, event_idx) */
  features?: bigint;
  maxPairs?: number;
  queueSize?: number;
  mtu?: number;
  linkUp?: boolean;
  /** where the structures live (default: all in BAR 4, as QEMU puts them) */
  common?: SimCapPlace;
  notify?: SimCapPlace & { mul?: number };
  isr?: SimCapPlace;
  device?: SimCapPlace;
  /** no modern capabilities at all (QEMU's disable-modern=on) */
  legacyOnly?: boolean;
  deviceId?: number;
  /** FEATURES_OK is refused even for offered features */
  refuse?: boolean;
  iommu?: boolean;
  /** MSI-X table size (QEMU's vectors=N; default 2 * maxPairs + 2); 0: the function has no MSI-X */
  msixVectors?: number;
  /** no PciDeviceAccess.irq at all (a PCI access without VFIO interrupts) */
  noIrq?: boolean;
  /** vectors msix_config / queue_msix_vector keep (default msixVectors): more are refused (read back 0xffff) */
  vectorLimit?: number;
}

export const QEMU_FEATURES = [
  S.VIRTIO_NET_F_CSUM, S.VIRTIO_NET_F_GUEST_CSUM, S.VIRTIO_NET_F_MAC, S.VIRTIO_NET_F_MRG_RXBUF, S.VIRTIO_NET_F_STATUS,
  S.VIRTIO_NET_F_CTRL_VQ, S.VIRTIO_NET_F_CTRL_RX, S.VIRTIO_NET_F_MQ, S.VIRTIO_F_EVENT_IDX, S.VIRTIO_F_VERSION_1,
  S.VIRTIO_F_RING_PACKED, S.VIRTIO_F_INDIRECT_DESC, S.VIRTIO_NET_F_GUEST_TSO4,
].reduce((a, b) => a | S.bit(b), 0n);

interface Desc { addr: number; len: number; flags: number }
export interface Chain { id: number; descs: Desc[]; ndesc: number }

interface SimQueue {
  size: number;
  max: number;
  desc: number;
  driver: number;
  device: number;
  enable: number;
  /** split: next avail index to read, next used index to write; packed: positions and wrap counters */
  lastAvail: number;
  usedIdx: number;
  availWrap: number;
  usedWrap: number;
  /** queue_msix_vector */
  vector: number;
}

export interface TxFrame { vq: number; hdr: Uint8Array; bytes: Uint8Array; ndesc: number }

const BAR_LEN = 0x4000;

export class VirtioNetSim {
  readonly features: bigint;
  readonly mac: number[];
  readonly maxPairs: number;
  readonly cfg = new Uint8Array(256);
  private readonly bars = new Map<number, { zone: string; off: number; va: bigint }>();
  private readonly place: { common: SimCapPlace; notify: SimCapPlace & { mul: number }; isr: SimCapPlace; device: SimCapPlace };
  private driverFeatures = [0, 0];
  private queueSel = 0;
  private queues: SimQueue[] = [];
  status = 0;
  resets = 0;
  busMaster = false;
  closed = false;
  /** notifications per virtqueue (control path and data path) */
  readonly kicks = new Map<number, number>();
  /** control commands received: [class, command, data] */
  readonly ctrlLog: Array<[number, number, number[]]> = [];
  pairs = 1;
  promisc = true; // QEMU resets a device to promiscuous
  allmulti = false;
  /** device-side policy: 'on' re-arms notifications after each step; 'off' asks for none */
  notifyPolicy: 'on' | 'off' = 'on';
  /** IN_ORDER batches: complete a TX step's buffers with one used entry */
  batchUsed = false;
  missed = 0;
  /** every device_status value the driver wrote, in order */
  readonly statusLog: number[] = [];
  private restoreSpy: () => void;
  /** MSI-X table size, msix_config, the eventfds bound (index = vector), how often the driver unbound them */
  readonly msixVectors: number;
  configVector = S.VIRTIO_MSI_NO_VECTOR;
  msixFds: number[] = [];
  irqDisables = 0;
  /** interrupts signalled per virtqueue */
  readonly irqs = new Map<number, number>();
  /** IOVA of region offset 0 (fast paths: no call returning a double) */
  private readonly base = mem().iova(0);

  constructor(private readonly name: string, private readonly o: VirtioSimOptions = {}) {
    this.features = o.features ?? QEMU_FEATURES;
    this.mac = o.mac ?? [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    this.maxPairs = o.maxPairs ?? 4;
    this.msixVectors = o.msixVectors ?? 2 * this.maxPairs + 2;
    this.place = {
      common: o.common ?? { bar: 4, offset: 0 },
      notify: { mul: 4, ...(o.notify ?? { bar: 4, offset: 0x3000 }) },
      isr: o.isr ?? { bar: 4, offset: 0x1000 },
      device: o.device ?? { bar: 4, offset: 0x2000 },
    };
    for (const p of Object.values(this.place)) this.bar(p.bar);
    this.buildConfigSpace();
    this.hardReset();
    setObservableNotify(true);
    this.restoreSpy = this.spyNotify();
  }

  private bar(n: number): { zone: string; off: number; va: bigint } {
    let b = this.bars.get(n);
    if (!b) {
      const zone = `${this.name}_bar${n}`;
      const z = memzoneReserve(zone, BAR_LEN, { align: 4096 });
      mem().u8.fill(0, z.off, z.off + BAR_LEN);
      b = { zone, off: z.off, va: z.va };
      this.bars.set(n, b);
    }
    return b;
  }

  /** PCI config space: IDs, a capability list with an MSI-X capability first, then the virtio ones. */
  private buildConfigSpace(): void {
    const c = new DataView(this.cfg.buffer);
    c.setUint16(0, S.VIRTIO_PCI_VENDOR, true);
    c.setUint16(2, this.o.deviceId ?? S.VIRTIO_PCI_DEVICE_NET_MODERN, true);
    c.setUint16(S.PCI_STATUS, S.PCI_STATUS_CAP_LIST, true);
    c.setUint8(S.PCI_CAPABILITY_LIST, 0x40);
    c.setUint8(0x40, 0x11); // MSI-X: not ours, skipped
    const virtio: Array<[number, SimCapPlace, number, number]> = this.o.legacyOnly ? [] : [
      [S.VIRTIO_PCI_CAP_COMMON_CFG, this.place.common, 0x38, 16],
      [S.VIRTIO_PCI_CAP_ISR_CFG, this.place.isr, 4, 16],
      [S.VIRTIO_PCI_CAP_DEVICE_CFG, this.place.device, 0x20, 16],
      [S.VIRTIO_PCI_CAP_NOTIFY_CFG, this.place.notify, 0x800, 20],
    ];
    let at = 0x40;
    let next = 0x50;
    for (const [type, p, len, capLen] of virtio) {
      c.setUint8(at + 1, next);
      c.setUint8(next + S.CAP.cap_vndr, S.PCI_CAP_ID_VNDR);
      c.setUint8(next + S.CAP.cap_len, capLen);
      c.setUint8(next + S.CAP.cfg_type, type);
      c.setUint8(next + S.CAP.bar, p.bar);
      c.setUint32(next + S.CAP.offset, p.offset, true);
      c.setUint32(next + S.CAP.length, len, true);
      if (type === S.VIRTIO_PCI_CAP_NOTIFY_CFG) c.setUint32(next + S.CAP.notify_off_multiplier, this.place.notify.mul, true);
      at = next;
      next += 0x18;
    }
    c.setUint8(at + 1, 0);
  }

  // ---- register file ---------------------------------------------------------------------------------------
  private at(p: SimCapPlace, off: number): number {
    return this.bar(p.bar).off + p.offset + off;
  }

  private w8(p: SimCapPlace, off: number, v: number): void { mem().u8[this.at(p, off)] = v; }
  private w16(p: SimCapPlace, off: number, v: number): void { mem().u16[this.at(p, off) >> 1] = v; }
  private w32(p: SimCapPlace, off: number, v: number): void { mem().u32[this.at(p, off) >> 2] = v >>> 0; }
  private r32(p: SimCapPlace, off: number): number { return mem().u32[this.at(p, off) >> 2]; }

  get numQueues(): number {
    return 2 * this.maxPairs + 1;
  }

  /** The device's reset: status 0, queues forgotten, config space refreshed. */
  private hardReset(): void {
    this.status = 0;
    this.driverFeatures = [0, 0];
    this.pairs = 1;
    this.promisc = true;
    this.allmulti = false;
    const max = this.o.queueSize ?? 256;
    this.queues = Array.from({ length: this.numQueues }, () => ({
      size: max, max, desc: 0, driver: 0, device: 0, enable: 0, lastAvail: 0, usedIdx: 0, availWrap: 1, usedWrap: 1,
      vector: S.VIRTIO_MSI_NO_VECTOR,
    }));
    const c = this.place.common;
    this.configVector = S.VIRTIO_MSI_NO_VECTOR;
    this.w16(c, S.COMMON.config_msix_vector, this.configVector);
    this.w16(c, S.COMMON.num_queues, this.numQueues);
    this.w8(c, S.COMMON.device_status, 0);
    this.selectQueue(0);
    const d = this.place.device;
    this.mac.forEach((b, i) => this.w8(d, S.NET_CFG.mac + i, b));
    this.setLink(this.o.linkUp ?? true);
    this.w16(d, S.NET_CFG.max_virtqueue_pairs, this.maxPairs);
    this.w16(d, S.NET_CFG.mtu, this.o.mtu ?? 1500);
  }

  setLink(up: boolean): void {
    this.w16(this.place.device, S.NET_CFG.status, up ? S.VIRTIO_NET_S_LINK_UP : 0);
  }

  private selectQueue(q: number): void {
    const c = this.place.common;
    this.queueSel = q;
    const x = this.queues[q];
    this.w16(c, S.COMMON.queue_select, q);
    this.w16(c, S.COMMON.queue_size, x ? x.size : 0);
    this.w16(c, S.COMMON.queue_enable, x ? x.enable : 0);
    this.w16(c, S.COMMON.queue_notify_off, q);
    this.w16(c, S.COMMON.queue_msix_vector, x ? x.vector : S.VIRTIO_MSI_NO_VECTOR);
    for (const [f, v] of [[S.COMMON.queue_desc, x?.desc ?? 0], [S.COMMON.queue_driver, x?.driver ?? 0], [S.COMMON.queue_device, x?.device ?? 0]]) {
      this.w32(c, f, v % TWO32);
      this.w32(c, f + 4, Math.floor(v / TWO32));
    }
  }

  /** What the driver's write of the common configuration does. */
  private commonWrite(off: number, v: number): void {
    const c = this.place.common;
    const C = S.COMMON;
    const q = this.queues[this.queueSel];
    const half = (f: number) => (off === f ? 0 : off === f + 4 ? 1 : -1);
    if (off === C.device_feature_select) this.w32(c, C.device_feature, v === 0 ? Number(this.features & 0xffffffffn) : v === 1 ? Number(this.features >> 32n) : 0);
    else if (off === C.driver_feature) this.driverFeatures[this.r32(c, C.driver_feature_select) & 1] = v;
    else if (off === C.device_status) this.statusWrite(v);
    else if (off === C.queue_select) this.selectQueue(v);
    else if (q && off === C.queue_size) q.size = v;
    else if (q && off === C.queue_enable) q.enable = v;
    else if (off === C.config_msix_vector) this.w16(c, off, this.configVector = this.takeVector(v));
    else if (q && off === C.queue_msix_vector) this.w16(c, off, q.vector = this.takeVector(v));
    else {
      for (const f of ['desc', 'driver', 'device'] as const) {
        const h = half(C[`queue_${f}`]);
        if (q && h >= 0) q[f] = h === 0 ? Math.floor(q[f] / TWO32) * TWO32 + v : (q[f] % TWO32) + v * TWO32;
      }
    }
  }

  /** QEMU keeps a vector below its table size, else answers VIRTIO_MSI_NO_VECTOR. */
  private takeVector(v: number): number {
    return v < (this.o.vectorLimit ?? this.msixVectors) ? v : S.VIRTIO_MSI_NO_VECTOR;
  }

  /** queue_msix_vector of virtqueue vq */
  vectorOf(vq: number): number {
    return this.queues[vq]?.vector ?? S.VIRTIO_MSI_NO_VECTOR;
  }

  irqsOf(vq: number): number {
    return this.irqs.get(vq) ?? 0;
  }

  accepted(): bigint {
    return (BigInt(this.driverFeatures[1]) << 32n) | BigInt(this.driverFeatures[0]);
  }

  negotiated(n: number): boolean {
    return S.has(this.accepted(), n);
  }

  private statusWrite(v: number): void {
    this.statusLog.push(v);
    if (v === 0) {
      this.packed = false;
      this.eventIdx = false;
      this.resets++;
      this.hardReset();
      return;
    }
    const newly = v & ~this.status;
    this.status = v;
    if (newly & S.STATUS_FEATURES_OK) {
      const f = this.accepted();
      this.packed = S.has(f, S.VIRTIO_F_RING_PACKED);
      this.eventIdx = S.has(f, S.VIRTIO_F_EVENT_IDX);
      if (this.o.refuse || (f & ~this.features) !== 0n || !S.has(f, S.VIRTIO_F_VERSION_1)) this.status &= ~S.STATUS_FEATURES_OK;
    }
    if (newly & S.STATUS_DRIVER_OK) for (let q = 0; q < this.queues.length; q++) this.armNotify(q);
    this.w8(this.place.common, S.COMMON.device_status, this.status);
  }

  /** What probePci gets. */
  access(bdf: string): PciDeviceAccess {
    const cfg = new DataView(this.cfg.buffer);
    return {
      bdf,
      vendorId: cfg.getUint16(0, true),
      deviceId: cfg.getUint16(2, true),
      bar0: { addr: 0n, len: 0 },
      cfgRead8: (off) => cfg.getUint8(off),
      cfgRead16: (off) => cfg.getUint16(off, true),
      cfgRead32: (off) => cfg.getUint32(off, true),
      mapBar: (n) => {
        const b = this.bars.get(n);
        if (!b) throw new Error(`BAR ${n} is not a memory BAR of the simulated device`);
        return { addr: b.va, len: BAR_LEN };
      },
      iommu: this.o.iommu,
      irq: this.o.noIrq ? undefined : {
        msixCount: () => this.msixVectors,
        enableMsix: (fds) => {
          if (fds.length > this.msixVectors) throw new Error(`${fds.length} MSI-X vectors asked for, the device offers ${this.msixVectors}`);
          this.msixFds = [...fds];
        },
        disable: () => { this.msixFds = []; this.irqDisables++; },
      },
      mmioHook: {
        read: (_off, v) => v,
        write: (off, v, bar) => this.hookWrite(off, v, bar ?? 0),
      },
      setBusMaster: (on) => { this.busMaster = on; },
      reset: () => { this.hardReset(); },
      close: () => { this.closed = true; this.busMaster = false; },
    };
  }

  private hookWrite(off: number, v: number, bar: number): void {
    const c = this.place.common;
    const n = this.place.notify;
    if (bar === c.bar && off >= c.offset && off < c.offset + 0x38) this.commonWrite(off - c.offset, v);
    else if (bar === n.bar && off >= n.offset && off < n.offset + 0x800) this.kicked(v);
  }

  private kicked(vq: number): void {
    this.kicks.set(vq, (this.kicks.get(vq) ?? 0) + 1);
    if (vq === this.ctrlVq()) this.serveCtrl();
  }

  /** Counts data-path notifications: Atomics.store on a 2-byte notify view. */
  private spyNotify(): () => void {
    const orig = Atomics.store;
    (Atomics as { store: typeof Atomics.store }).store = ((arr: Uint16Array, idx: number, v: number) => {
      const r = orig(arr as never, idx, v);
      if (arr instanceof Uint16Array && arr.byteLength === 2) this.kicked(v);
      return r;
    }) as typeof Atomics.store;
    return () => { (Atomics as { store: typeof Atomics.store }).store = orig; };
  }

  release(): void {
    this.restoreSpy();
    setObservableNotify(false);
    for (const b of this.bars.values()) memzoneFree(b.zone);
  }

  kicksOf(vq: number): number {
    return this.kicks.get(vq) ?? 0;
  }

  ctrlVq(): number {
    return this.negotiated(S.VIRTIO_NET_F_MQ) ? 2 * this.maxPairs : 2;
  }

  /** negotiated ring layout and EVENT_IDX, kept as booleans (BigInt tests allocate: the fast paths must not) */
  packed = false;
  private eventIdx = false;

  get live(): boolean {
    return (this.status & S.STATUS_DRIVER_OK) !== 0 && this.busMaster;
  }

  static off(iova: number): number {
    return iova - mem().iova(0);
  }

  // ---- virtqueues, device side -----------------------------------------------------------------------------
  /** The next available chain of virtqueue vq, or null. */
  pop(vq: number): Chain | null {
    const q = this.queues[vq];
    if (!q || !q.enable) return null;
    return this.packed ? this.popPacked(q) : this.popSplit(q);
  }

  private popSplit(q: SimQueue): Chain | null {
    const r = mem();
    const drv = SimOff(q.driver);
    if (r.u16[(drv + S.VIRTQ_AVAIL.idx) >> 1] === q.lastAvail) return null;
    const head = r.u16[((drv + S.VIRTQ_AVAIL.ring) >> 1) + (q.lastAvail % q.size)];
    q.lastAvail = (q.lastAvail + 1) & 0xffff;
    const descs: Desc[] = [];
    for (let i = head, n = 0; n < q.size; n++) {
      const d = SimOff(q.desc) + i * 16;
      const flags = r.u16[(d + S.VIRTQ_DESC.flags) >> 1];
      descs.push({ addr: r.u32[(d >> 2) + 1] * TWO32 + r.u32[d >> 2], len: r.u32[(d + 8) >> 2], flags });
      if (!(flags & S.VIRTQ_DESC_F_NEXT)) break;
      i = r.u16[(d + S.VIRTQ_DESC.next) >> 1];
    }
    return { id: head, descs, ndesc: descs.length };
  }

  private popPacked(q: SimQueue): Chain | null {
    const r = mem();
    const descs: Desc[] = [];
    let pos = q.lastAvail;
    let wrap = q.availWrap;
    let id = 0;
    for (;;) {
      const d = SimOff(q.desc) + pos * 16;
      const flags = r.u16[(d + S.PVIRTQ_DESC.flags) >> 1];
      const a = (flags >> 7) & 1;
      const u = (flags >> 15) & 1;
      if (a !== wrap || u === wrap) {
        if (descs.length === 0) return null;
        throw new Error('packed chain ends in a descriptor that is not available');
      }
      descs.push({ addr: r.u32[(d >> 2) + 1] * TWO32 + r.u32[d >> 2], len: r.u32[(d + 8) >> 2], flags });
      id = r.u16[(d + S.PVIRTQ_DESC.id) >> 1];
      if (++pos === q.size) { pos = 0; wrap ^= 1; }
      if (!(flags & S.VIRTQ_DESC_F_NEXT)) break;
    }
    q.lastAvail = pos;
    q.availWrap = wrap;
    return { id, descs, ndesc: descs.length };
  }

  /** Marks a chain used with `len` bytes written. */
  pushUsed(vq: number, c: Chain, len: number, publish = true): void {
    const q = this.queues[vq];
    const r = mem();
    if (this.packed) {
      const d = SimOff(q.desc) + q.usedIdx * 16;
      r.u16[(d + S.PVIRTQ_DESC.id) >> 1] = c.id;
      r.u32[(d + 8) >> 2] = len;
      r.u16[(d + S.PVIRTQ_DESC.flags) >> 1] = q.usedWrap ? S.VIRTQ_DESC_F_AVAIL | S.VIRTQ_DESC_F_USED : 0;
      q.usedIdx += c.ndesc;
      if (q.usedIdx >= q.size) { q.usedIdx -= q.size; q.usedWrap ^= 1; }
      return;
    }
    const dev = SimOff(q.device);
    const e = ((dev + S.VIRTQ_USED.ring) >> 2) + (q.usedIdx % q.size) * 2;
    r.u32[e] = c.id;
    r.u32[e + 1] = len;
    q.usedIdx = (q.usedIdx + 1) & 0xffff;
    if (publish) r.u16[(dev + S.VIRTQ_USED.idx) >> 1] = q.usedIdx;
  }

  /** Split ring: the used index the device has written but not yet published (IN_ORDER batches). */
  publishUsed(vq: number): void {
    const q = this.queues[vq];
    if (!this.packed) mem().u16[(SimOff(q.device) + S.VIRTQ_USED.idx) >> 1] = q.usedIdx;
  }

  /** How the device asks to be notified after a step: right at the next buffer, or not at all. */
  armNotify(vq: number): void {
    const q = this.queues[vq];
    if (!q || !q.enable) return;
    const r = mem();
    const on = this.notifyPolicy === 'on';
    if (this.packed) {
      const dev = SimOff(q.device);
      const ev = this.eventIdx;
      r.u16[(dev + S.PVIRTQ_EVENT.flags) >> 1] = !on ? S.RING_EVENT_FLAGS_DISABLE : ev ? S.RING_EVENT_FLAGS_DESC : S.RING_EVENT_FLAGS_ENABLE;
      r.u16[(dev + S.PVIRTQ_EVENT.off_wrap) >> 1] = q.lastAvail | (q.availWrap << 15);
      return;
    }
    const dev = SimOff(q.device);
    if (this.eventIdx) {
      r.u16[(dev + S.VIRTQ_USED.ring + S.VIRTQ_USED.elem * q.size) >> 1] = on ? q.lastAvail : (q.lastAvail - 1) & 0xffff;
    } else {
      r.u16[(dev + S.VIRTQ_USED.flags) >> 1] = on ? 0 : S.VIRTQ_USED_F_NO_NOTIFY;
    }
  }

  /** Reads the bytes of a chain (header included). */
  static gather(c: Chain): Uint8Array {
    const r = mem();
    const parts = c.descs.map((d) => r.u8.slice(SimOff(d.addr), SimOff(d.addr) + d.len));
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  }

  /** Transmits up to max packets of TX queue `pair`: returns them (header split off), marks them used. */
  stepTx(pair = 0, max = 1 << 30): TxFrame[] {
    const vq = S.txVq(pair);
    const out: TxFrame[] = [];
    if (!this.live) return out;
    const batch: Chain[] = [];
    for (let c; out.length < max && (c = this.pop(vq));) {
      const all = VirtioNetSim.gather(c);
      const hdr = all.slice(0, S.NET_HDR_LEN);
      const bytes = all.slice(S.NET_HDR_LEN);
      if (hdr[0] & S.VIRTIO_NET_HDR_F_NEEDS_CSUM) fillCsum(bytes, hdr);
      out.push({ vq, hdr, bytes, ndesc: c.ndesc });
      if (this.batchUsed && this.negotiated(S.VIRTIO_F_IN_ORDER)) batch.push(c);
      else this.pushUsed(vq, c, 0);
    }
    if (batch.length) this.pushUsedBatch(vq, batch);
    this.armNotify(vq);
    return out;
  }

  /**
   * IN_ORDER [2.7.x / 2.8.x]: a batch completed with one used entry, written where the batch's first one would
   * go, carrying the last buffer's ID; the used position then moves over the whole batch.
   */
  private pushUsedBatch(vq: number, batch: Chain[]): void {
    const q = this.queues[vq];
    const last = batch[batch.length - 1];
    if (this.packed) {
      const total = batch.reduce((a, c) => a + c.ndesc, 0);
      this.pushUsed(vq, { ...last, ndesc: total }, 0);
      return;
    }
    const start = q.usedIdx;
    this.pushUsed(vq, last, 0, false);
    q.usedIdx = (start + batch.length) & 0xffff;
    this.publishUsed(vq);
  }

  /**
   * Receives one frame on RX queue `pair`: header (flags as given) and data over as many buffers as it takes
   * (one without MRG_RXBUF). False, and a miss counted, when the buffers are not there.
   */
  deliver(frame: ArrayLike<number>, pair = 0, hdrFlags = 0): boolean {
    const vq = S.rxVq(pair);
    const q = this.queues[vq];
    if (!this.live || !q?.enable) return false;
    const mrg = this.negotiated(S.VIRTIO_NET_F_MRG_RXBUF);
    const data = Uint8Array.from(frame as ArrayLike<number>);
    const saved = { lastAvail: q.lastAvail, availWrap: q.availWrap };
    const was = { used: q.usedIdx, wrap: q.usedWrap };
    const chains: Chain[] = [];
    let room = 0;
    while (room < data.length + S.NET_HDR_LEN) {
      const c = this.pop(vq);
      if (!c || (!mrg && chains.length === 1)) {
        Object.assign(q, saved);
        this.missed++;
        return false;
      }
      chains.push(c);
      room += c.descs[0].len;
    }
    const r = mem();
    const all = new Uint8Array(S.NET_HDR_LEN + data.length);
    all[0] = hdrFlags;
    all[S.NET_HDR.num_buffers] = chains.length & 0xff;
    all[S.NET_HDR.num_buffers + 1] = chains.length >> 8;
    all.set(data, S.NET_HDR_LEN);
    let at = 0;
    for (const c of chains) {
      const n = Math.min(c.descs[0].len, all.length - at);
      r.u8.set(all.subarray(at, at + n), SimOff(c.descs[0].addr));
      at += n;
      this.pushUsed(vq, c, n, false);
    }
    this.publishUsed(vq);
    if (this.driverWantsIrq(q, was.used, was.wrap)) this.interrupt(vq, q.vector);
    return true;
  }

  /**
   * After used entries from (old, oldWrap) on: may the device interrupt? Split: EVENT_IDX's used_event passed
   * (vring_need_event) or NO_INTERRUPT clear [2.7.10]; packed: the driver event flags, DESC at a slot just used [2.8.10].
   */
  private driverWantsIrq(q: SimQueue, old: number, oldWrap: number): boolean {
    const r = mem();
    const drv = SimOff(q.driver);
    if (!this.packed) {
      if (!this.eventIdx) return (r.u16[(drv + S.VIRTQ_AVAIL.flags) >> 1] & S.VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
      return S.needEvent(r.u16[(drv + S.VIRTQ_AVAIL.ring + 2 * q.size) >> 1], q.usedIdx, old);
    }
    const flags = r.u16[(drv + S.PVIRTQ_EVENT.flags) >> 1];
    if (flags !== S.RING_EVENT_FLAGS_DESC) return flags === S.RING_EVENT_FLAGS_ENABLE;
    const ow = r.u16[(drv + S.PVIRTQ_EVENT.off_wrap) >> 1];
    for (let pos = old, wrap = oldWrap; pos !== q.usedIdx || wrap !== q.usedWrap;) {
      if (pos === (ow & 0x7fff) && wrap === ow >> 15) return true;
      if (++pos === q.size) { pos = 0; wrap ^= 1; }
    }
    return false;
  }

  /** MSI-X vector `vector` fires: its eventfd (if bound) counts one; counted per virtqueue either way. */
  private interrupt(vq: number, vector: number): void {
    if (vector === S.VIRTIO_MSI_NO_VECTOR) return;
    this.irqs.set(vq, this.irqsOf(vq) + 1);
    const fd = this.msixFds[vector];
    if (fd !== undefined && fd >= 0) ffi.write(fd, new BigUint64Array([1n]), 8);
  }

  /**
   * The device side without allocating (for tests that measure the driver's heap use): fills up to n one-buffer
   * frames of `len` bytes (header zero but num_buffers = 1, data left as the buffer holds it) on RX queue `pair`.
   */
  fastDeliver(pair: number, n: number, len: number): number {
    const q = this.queues[S.rxVq(pair)];
    const r = mem();
    const base = this.base;
    let done = 0;
    for (; done < n; done++) {
      let id: number;
      let addr: number;
      if (this.packed) {
        const d = q.desc - base + q.lastAvail * 16;
        const f = r.u16[(d + 14) >> 1];
        if (((f >> 7) & 1) !== q.availWrap || ((f >> 15) & 1) === q.availWrap) break;
        id = r.u16[(d + 12) >> 1];
        addr = r.u32[(d >> 2) + 1] * TWO32 + r.u32[d >> 2] - base;
        if (++q.lastAvail === q.size) { q.lastAvail = 0; q.availWrap ^= 1; }
      } else {
        const drv = q.driver - base;
        if (r.u16[(drv + 2) >> 1] === q.lastAvail) break;
        id = r.u16[((drv + 4) >> 1) + (q.lastAvail % q.size)];
        q.lastAvail = (q.lastAvail + 1) & 0xffff;
        const d = q.desc - base + id * 16;
        addr = r.u32[(d >> 2) + 1] * TWO32 + r.u32[d >> 2] - base;
      }
      r.u8[addr] = 0;
      r.u16[(addr + S.NET_HDR.num_buffers) >> 1] = 1;
      this.fastUsed(q, id, len + S.NET_HDR_LEN, 1);
    }
    return done;
  }

  /** Completes every available TX chain of queue `pair` without looking at it or allocating (notifications stay
   * as armNotify last set them). */
  fastComplete(pair: number): number {
    const q = this.queues[S.txVq(pair)];
    const r = mem();
    const base = this.base;
    let done = 0;
    for (;; done++) {
      if (this.packed) {
        let nd = 0;
        let id = 0;
        for (;;) {
          const d = q.desc - base + q.lastAvail * 16;
          const f = r.u16[(d + 14) >> 1];
          if (((f >> 7) & 1) !== q.availWrap || ((f >> 15) & 1) === q.availWrap) break;
          id = r.u16[(d + 12) >> 1];
          nd++;
          if (++q.lastAvail === q.size) { q.lastAvail = 0; q.availWrap ^= 1; }
          if (!(f & S.VIRTQ_DESC_F_NEXT)) break;
        }
        if (nd === 0) break;
        this.fastUsed(q, id, 0, nd);
      } else {
        const drv = q.driver - base;
        if (r.u16[(drv + 2) >> 1] === q.lastAvail) break;
        const id = r.u16[((drv + 4) >> 1) + (q.lastAvail % q.size)];
        q.lastAvail = (q.lastAvail + 1) & 0xffff;
        this.fastUsed(q, id, 0, 1);
      }
    }
    return done;
  }

  private fastUsed(q: SimQueue, id: number, len: number, ndesc: number): void {
    const r = mem();
    const base = this.base;
    if (this.packed) {
      const d = q.desc - base + q.usedIdx * 16;
      r.u16[(d + 12) >> 1] = id;
      r.u32[(d + 8) >> 2] = len;
      r.u16[(d + 14) >> 1] = q.usedWrap ? S.VIRTQ_DESC_F_AVAIL | S.VIRTQ_DESC_F_USED : 0;
      q.usedIdx += ndesc;
      if (q.usedIdx >= q.size) { q.usedIdx -= q.size; q.usedWrap ^= 1; }
      return;
    }
    const dev = q.device - base;
    const e = ((dev + 4) >> 2) + (q.usedIdx % q.size) * 2;
    r.u32[e] = id;
    r.u32[e + 1] = len;
    q.usedIdx = (q.usedIdx + 1) & 0xffff;
    r.u16[(dev + 2) >> 1] = q.usedIdx;
  }

  /** Serves the control virtqueue: each command acknowledged, MQ and RX modes applied. */
  private serveCtrl(): void {
    const vq = this.ctrlVq();
    for (let c; (c = this.pop(vq));) {
      const r = mem();
      const out = VirtioNetSim.gather({ ...c, descs: c.descs.filter((d) => !(d.flags & S.VIRTQ_DESC_F_WRITE)) });
      const [cls, cmd] = out;
      const data = Array.from(out.slice(2));
      this.ctrlLog.push([cls, cmd, data]);
      let ack = S.VIRTIO_NET_OK;
      if (cls === S.VIRTIO_NET_CTRL_MQ && cmd === S.VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET) {
        const p = data[0] | (data[1] << 8);
        if (p < 1 || p > this.maxPairs) ack = S.VIRTIO_NET_ERR;
        else this.pairs = p;
      } else if (cls === S.VIRTIO_NET_CTRL_RX && cmd === S.VIRTIO_NET_CTRL_RX_PROMISC) this.promisc = data[0] !== 0;
      else if (cls === S.VIRTIO_NET_CTRL_RX && cmd === S.VIRTIO_NET_CTRL_RX_ALLMULTI) this.allmulti = data[0] !== 0;
      else ack = S.VIRTIO_NET_ERR;
      const w = c.descs.find((d) => d.flags & S.VIRTQ_DESC_F_WRITE)!;
      r.u8[SimOff(w.addr)] = ack;
      this.pushUsed(vq, c, 1);
    }
  }
}

function SimOff(iova: number): number {
  return VirtioNetSim.off(iova);
}

/** What a device does with NEEDS_CSUM: the ones' complement sum from csum_start on, into csum_start + csum_offset
 * (the field holds the pseudo-header sum the sender put there). */
export function fillCsum(f: Uint8Array, hdr: Uint8Array): void {
  const start = hdr[6] | (hdr[7] << 8);
  const at = start + (hdr[8] | (hdr[9] << 8));
  let sum = 0;
  for (let i = start; i < f.length; i += 2) sum += (f[i] << 8) | (i + 1 < f.length ? f[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  let c = ~sum & 0xffff;
  if (c === 0 && f[23] === 17) c = 0xffff;
  f[at] = c >> 8;
  f[at + 1] = c & 0xff;
}
