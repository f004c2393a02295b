// The modern virtio PCI transport [4.1]: the vendor-specific capabilities that say where the common, notify, ISR
// and device configuration structures are (any BAR, any offset), control-path access to them, the status
// handshake's steps and virtqueue programming. Every access is an Atomics operation on a view of the mapped BAR
// (neither cached nor reordered by the JIT; slow, and fine off the data path); a simulated device's mmioHook sees
// each one with the BAR it went to.
import * as ffi from '../../eal/ffi.js';
import type { PciDeviceAccess, MmioHook } from '../pci/access.js';
import { delayMs } from '../../eal/lcore.js';
import {
  PCI_STATUS, PCI_STATUS_CAP_LIST, PCI_CAPABILITY_LIST, PCI_CAP_ID_VNDR, CAP, COMMON, COMMON_CFG_LEN,
  VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_CAP_DEVICE_CFG,
  VIRTIO_MSI_NO_VECTOR,
} from './spec.js';

/** One structure a capability points at. */
export interface CapRegion {
  bar: number;
  offset: number;
  length: number;
}

export interface VirtioCaps {
  common: CapRegion | null;
  notify: CapRegion | null;
  notifyOffMultiplier: number;
  isr: CapRegion | null;
  device: CapRegion | null;
}

/**
 * Walks the capability list for virtio's vendor-specific capabilities [4.1.4]; the first of each type is taken
 * (the specification lets a device offer several, in order of preference).
 */
export function findVirtioCaps(dev: PciDeviceAccess): VirtioCaps {
  const caps: VirtioCaps = { common: null, notify: null, notifyOffMultiplier: 0, isr: null, device: null };
  const r8 = dev.cfgRead8!.bind(dev);
  const r32 = dev.cfgRead32!.bind(dev);
  if ((dev.cfgRead16!(PCI_STATUS) & PCI_STATUS_CAP_LIST) === 0) return caps;
  let pos = r8(PCI_CAPABILITY_LIST) & 0xfc;
  for (let seen = 0; pos !== 0 && seen < 48; seen++) {
    if (r8(pos + CAP.cap_vndr) === PCI_CAP_ID_VNDR) {
      const type = r8(pos + CAP.cfg_type);
      const region = { bar: r8(pos + CAP.bar), offset: r32(pos + CAP.offset), length: r32(pos + CAP.length) };
      if (type === VIRTIO_PCI_CAP_COMMON_CFG && !caps.common) caps.common = region;
      else if (type === VIRTIO_PCI_CAP_ISR_CFG && !caps.isr) caps.isr = region;
      else if (type === VIRTIO_PCI_CAP_DEVICE_CFG && !caps.device) caps.device = region;
      else if (type === VIRTIO_PCI_CAP_NOTIFY_CFG && !caps.notify) {
        caps.notify = region;
        caps.notifyOffMultiplier = r32(pos + CAP.notify_off_multiplier);
      }
    }
    pos = r8(pos + CAP.cap_next) & 0xfc;
  }
  return caps;
}

/** A structure inside a mapped BAR: 8/16/32-bit views and the BAR-relative offset the hook is told. */
class Window {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly addr: bigint;

  constructor(base: bigint, readonly r: CapRegion, readonly hook: MmioHook | null) {
    this.addr = base + BigInt(r.offset);
    const buf = ffi.view(this.addr, r.length);
    this.u8 = new Uint8Array(buf);
    this.u16 = new Uint16Array(buf, 0, r.length >> 1);
    this.u32 = new Uint32Array(buf, 0, r.length >> 2);
  }

  rd8(off: number): number { return this.seen(off, Atomics.load(this.u8, off)) & 0xff; }
  rd16(off: number): number { return this.seen(off, Atomics.load(this.u16, off >> 1)) & 0xffff; }
  rd32(off: number): number { return this.seen(off, Atomics.load(this.u32, off >> 2)) >>> 0; }
  wr8(off: number, v: number): void { Atomics.store(this.u8, off, v); this.hook?.write(this.r.offset + off, v & 0xff, this.r.bar); }
  wr16(off: number, v: number): void { Atomics.store(this.u16, off >> 1, v); this.hook?.write(this.r.offset + off, v & 0xffff, this.r.bar); }
  wr32(off: number, v: number): void { Atomics.store(this.u32, off >> 2, v); this.hook?.write(this.r.offset + off, v >>> 0, this.r.bar); }

  private seen(off: number, v: number): number {
    return this.hook === null ? v : this.hook.read(this.r.offset + off, v, this.r.bar);
  }
}

/** What the driver learns about one virtqueue when it programs it. */
export interface VqProgram {
  size: number;
  desc: number;
  driver: number;
  device: number;
  /** MSI-X vector of the queue's used-buffer notifications (VIRTIO_MSI_NO_VECTOR, the default: none, pktio polls) */
  vector?: number;
}

/**
 * One clear line for a vector the device did not take: it read back VIRTIO_MSI_NO_VECTOR [4.1.4.3, 4.1.5.1.2.1]
 * (QEMU takes vectors below its `vectors` property only).
 */
function vectorRefused(what: string, v: number, got: number): Error {
  return new Error(`the device refused MSI-X vector ${v} for ${what} (read back 0x${got.toString(16)}): it has too few vectors; ` +
    'give QEMU more: -device virtio-net-pci,...,vectors=N with N >= RX queues + 1 (default 3, or 2 * queues + 2 with mq=on)');
}

export class VirtioPci {
  readonly common: Window;
  readonly device: Window | null;
  readonly notifyBase: bigint;
  readonly notifyMul: number;
  private readonly notifyWin: Window;

  /** Throws the reason when the function has no modern interface (a legacy-only device). */
  constructor(readonly dev: PciDeviceAccess, readonly caps: VirtioCaps) {
    const need = (c: CapRegion | null, what: string): CapRegion => {
      if (!c) throw new Error(`the function has no ${what} capability`);
      return c;
    };
    const hook = dev.mmioHook ?? null;
    const bars = new Map<number, bigint>();
    const base = (bar: number): bigint => {
      if (!bars.has(bar)) bars.set(bar, dev.mapBar!(bar).addr);
      return bars.get(bar)!;
    };
    const common = need(caps.common, 'VIRTIO_PCI_CAP_COMMON_CFG');
    if (common.length < COMMON_CFG_LEN) throw new Error(`its common configuration structure is ${common.length} bytes, less than ${COMMON_CFG_LEN}`);
    this.common = new Window(base(common.bar), common, hook);
    const notify = need(caps.notify, 'VIRTIO_PCI_CAP_NOTIFY_CFG');
    this.notifyWin = new Window(base(notify.bar), notify, hook);
    this.notifyBase = this.notifyWin.addr;
    this.notifyMul = caps.notifyOffMultiplier;
    this.device = caps.device ? new Window(base(caps.device.bar), caps.device, hook) : null;
  }

  status(): number {
    return this.common.rd8(COMMON.device_status);
  }

  setStatus(bits: number): void {
    this.common.wr8(COMMON.device_status, this.status() | bits);
  }

  /** Device reset [4.1.4.3.2]: write 0, then wait until device_status reads 0 (the device may take a while). */
  reset(): boolean {
    this.common.wr8(COMMON.device_status, 0);
    for (let i = 0; i < 1000; i++) {
      if (this.status() === 0) return true;
      delayMs(1);
    }
    return false;
  }

  deviceFeatures(): bigint {
    const c = this.common;
    c.wr32(COMMON.device_feature_select, 0);
    const lo = c.rd32(COMMON.device_feature);
    c.wr32(COMMON.device_feature_select, 1);
    const hi = c.rd32(COMMON.device_feature);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  setDriverFeatures(f: bigint): void {
    const c = this.common;
    c.wr32(COMMON.driver_feature_select, 0);
    c.wr32(COMMON.driver_feature, Number(f & 0xffffffffn));
    c.wr32(COMMON.driver_feature_select, 1);
    c.wr32(COMMON.driver_feature, Number(f >> 32n));
  }

  numQueues(): number {
    return this.common.rd16(COMMON.num_queues);
  }

  /** Largest size the device allows for virtqueue q (0: no such queue). */
  queueMax(q: number): number {
    this.common.wr16(COMMON.queue_select, q);
    return this.common.rd16(COMMON.queue_size);
  }

  /**
   * Programs virtqueue q [4.1.5.1.3]: size, its MSI-X vector (none unless asked: pktio polls; read back, the
   * device answers VIRTIO_MSI_NO_VECTOR when it cannot map it [4.1.5.1.2.1]), the three area addresses as 32-bit
   * halves (allowed for 64-bit fields), then queue_enable. Returns the notify address of the queue.
   */
  programQueue(q: number, p: VqProgram): bigint {
    const c = this.common;
    c.wr16(COMMON.queue_select, q);
    c.wr16(COMMON.queue_size, p.size);
    const vector = p.vector ?? VIRTIO_MSI_NO_VECTOR;
    c.wr16(COMMON.queue_msix_vector, vector);
    const got = c.rd16(COMMON.queue_msix_vector);
    if (got !== vector) throw vectorRefused(`virtqueue ${q}`, vector, got);
    const wr64 = (off: number, v: number) => { c.wr32(off, v >>> 0); c.wr32(off + 4, Math.floor(v / 4294967296)); };
    wr64(COMMON.queue_desc, p.desc);
    wr64(COMMON.queue_driver, p.driver);
    wr64(COMMON.queue_device, p.device);
    const off = c.rd16(COMMON.queue_notify_off);
    c.wr16(COMMON.queue_enable, 1);
    return this.notifyBase + BigInt(off * this.notifyMul);
  }

  /**
   * The configuration-change vector (msix_config [4.1.4.3]): link changes signal it; VIRTIO_MSI_NO_VECTOR for
   * none. Read back like a queue's.
   */
  setConfigVector(vector: number): void {
    this.common.wr16(COMMON.config_msix_vector, vector);
    const got = this.common.rd16(COMMON.config_msix_vector);
    if (got !== vector) throw vectorRefused('configuration changes (msix_config)', vector, got);
  }

  /** The notify address of virtqueue q [4.1.4.4]: notify base + queue_notify_off * notify_off_multiplier. */
  queueNotifyAddr(q: number): bigint {
    this.common.wr16(COMMON.queue_select, q);
    return this.notifyBase + BigInt(this.common.rd16(COMMON.queue_notify_off) * this.notifyMul);
  }

  /** Byte offset of a notify address inside the notify structure (for the hook). */
  notifyOffset(addr: bigint): number {
    return Number(addr - this.notifyBase);
  }

  /** Control-path notification of virtqueue q at its notify address. */
  notify(addr: bigint, q: number): void {
    this.notifyWin.wr16(this.notifyOffset(addr), q);
  }

  configGeneration(): number {
    return this.common.rd8(COMMON.config_generation);
  }

  /**
   * Reads device-config fields consistently [4.1.4.3.1]: again while config_generation changed under the read.
   */
  readConfig<T>(read: (d: Window) => T): T | null {
    const d = this.device;
    if (!d) return null;
    for (;;) {
      const g = this.configGeneration();
      const v = read(d);
      if (this.configGeneration() === g) return v;
    }
  }
}

export type { Window };
