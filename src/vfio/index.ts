// VFIO for pktio: hand PCI devices to userspace and give them DMA access to the EAL's memory.
//
// API
// ---
//   interface DmaSegment { va: bigint; iova: bigint; len: number }
//   interface VfioOptions { flow?: 'auto'|'legacy'|'cdev'; allowNoIommu?: boolean; iommufdCompat?: boolean;
//                           sysfsRoot?: string /* '/sys' */; devRoot?: string /* '/dev' */; log?: VfioLogger }
//   class Vfio {
//     constructor(opts?: VfioOptions)
//     attach(bdf: string): VfioDevice        // opens the group (or cdev), sets up the container / IOAS on first use
//     mapSegments(segs: DmaSegment[]): void   // DMA-map EAL memory (type1 / iommufd); no-op in no-IOMMU; remembered
//                                             //   so devices attached later are covered too
//     readonly iommuType: 'type1'|'noiommu'|'iommufd'|null
//     readonly requiresPhysicalIova: boolean   // true in no-IOMMU mode: the EAL must use IOVA = PA (hugepages)
//     devices(): VfioDevice[]
//     close(): void                            // closes devices, unmaps DMA, closes group/container/iommufd fds
//   }
//   class VfioDevice {                         // see ./device.ts
//     readonly bdf: string; readonly flow: 'legacy'|'cdev'; readonly numRegions/numIrqs/flags: number
//     regionInfo(i): RegionInfo; mapBar(i): { addr: bigint; len: number }
//     cfgRead8/16/32(off): number; cfgWrite8/16/32(off, v): void; command(): number
//     enableMemory(): void; setBusMaster(on: boolean): number; reset(): boolean; irqInfo(i): IrqInfo; close(): void
//     irqCount('intx'|'msi'|'msix'): number; enableMsix(eventfds: number[]); enableMsi(eventfds: number[]);
//     enableIntx(eventfd); unmaskIntx(); disableIrqs(); irqEnabled   // ./irq.ts: vectors bound to eventfds; close()
//                                                                    // turns them off
//   }
//   vfioIovaPlan(bdfs, opts?): VfioIovaPlan   // BEFORE allocating memory: does any device need IOVA = PA
//                                             //   (no-IOMMU)? how many IOVA bits does the IOMMU have?
//   planDevice(bdf, paths): DevicePlan        // the sysfs checks attach() makes, without opening anything
//   VfioError { code: VfioErrorCode; errno? }  // every message says how to fix the cause
//
// EAL sequence: parse --vfio-noiommu / --vfio-flow -> vfioIovaPlan(probe list) -> pick IOVA mode and
// allocate memory (IOVA = VA needs every va+len below 2^iovaBits: reserve memory at a low address) ->
// new Vfio(...) -> mapSegments(all segments) -> PMDs: attach(bdf), enableMemory(), mapBar(0),
// setBusMaster(true) -> at stop: setBusMaster(false) (VfioDevice.close() does it), Vfio.close().
//
// Which kernels do what
// ---------------------
// * Legacy container + group (/dev/vfio/vfio, /dev/vfio/<group>): every VFIO kernel. IOMMU type
//   TYPE1v2 is preferred, TYPE1 accepted; DMA maps with VFIO_IOMMU_MAP_DMA (pktio maps IOVA = the
//   segment's iova, which the EAL sets to VA in VA mode).
// * No-IOMMU (/dev/vfio/noiommu-<group>, VFIO_NOIOMMU_IOMMU = 8): kernels built with
//   CONFIG_VFIO_NOIOMMU (Debian's 6.1 and 6.12 builds do not set it), and only after
//   `modprobe vfio enable_unsafe_noiommu_mode=1`. MAP_DMA is refused there, so DMA must use
//   physical addresses; the device can write anywhere in RAM. pktio uses it only with allowNoIommu
//   (EAL --vfio-noiommu) and logs a warning.
// * iommufd (/dev/iommu, CONFIG_IOMMUFD): Linux 6.2+. VFIO device cdevs (/dev/vfio/devices/vfioN,
//   found through sysfs .../<BDF>/vfio-dev/vfioN; CONFIG_VFIO_DEVICE_CDEV) with
//   VFIO_DEVICE_BIND_IOMMUFD / VFIO_DEVICE_ATTACH_IOMMUFD_PT: Linux 6.6+. flow 'auto' takes this path
//   when both nodes exist and the device has an IOMMU.
// * No-IOMMU devices get no cdev node up to at least 6.12 (vfio_device_add: "cdev does not support
//   noiommu device", BIND_IOMMUFD rejects iommufd -1), so no-IOMMU always uses the group node. Later
//   kernels bind no-IOMMU cdevs to a real iommufd; pktio does not use that yet.
// * iommufdCompat: pass /dev/iommu's fd to VFIO_GROUP_SET_CONTAINER instead of /dev/vfio/vfio
//   (6.2+; iommufd answers the type1 ioctls itself). Works for no-IOMMU groups too (no SET_IOMMU, no
//   DMA map). Kernels with CONFIG_IOMMUFD_VFIO_CONTAINER serve /dev/vfio/vfio from iommufd anyway.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ffi from '../eal/ffi.js';
import { log as ealLog } from '../eal/log.js';
import { parsePciAddress, pciDeviceDir } from '../eal/pci.js';
import { VfioDevice } from './device.js';
import { VfioError } from './errors.js';
import { noIommuDisabledError, noIommuParam, notViableError, planDevice, type DevicePlan, type VfioPaths } from './sysfs.js';
import * as u from './uapi.js';

export { VfioDevice, type RegionInfo, type IrqInfo, type BarMapping } from './device.js';
export { VfioError, type VfioErrorCode } from './errors.js';
export { eventfds, closeFds, eventfdDrain, type IrqKind } from './irq.js';
export { planDevice, groupMembers, noIommuParam, type DevicePlan, type VfioPaths } from './sysfs.js';

export interface DmaSegment {
  va: bigint;
  iova: bigint;
  len: number;
}

export type VfioFlow = 'auto' | 'legacy' | 'cdev';
export type IommuType = 'type1' | 'noiommu' | 'iommufd';

/** The part of a pino logger VFIO uses. */
export interface VfioLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface VfioOptions {
  /** 'auto' (default): device cdev + iommufd where the kernel offers it, else container/group. */
  flow?: VfioFlow;
  /** Allow no-IOMMU groups (EAL --vfio-noiommu). Off by default: such devices can DMA anywhere. */
  allowNoIommu?: boolean;
  /** Legacy flow: use /dev/iommu as the groups' container instead of /dev/vfio/vfio. */
  iommufdCompat?: boolean;
  sysfsRoot?: string;
  devRoot?: string;
  log?: VfioLogger;
}

const PAGE = 4096n;

/** Throws VfioError SYSCALL for rc < 0. A function hint runs after errno is read (it may make syscalls). */
function sys(rc: number, what: string, hint?: string | (() => string)): number {
  if (rc < 0) {
    const e = ffi.errno();
    const h = typeof hint === 'function' ? hint() : hint;
    throw new VfioError('SYSCALL', `${what}: ${ffi.strerror(e)} (errno ${e})${h ? `. ${h}` : ''}`, e);
  }
  return rc;
}

function openNode(path: string, what: string): number {
  const fd = ffi.open(path, ffi.O_RDWR | ffi.O_CLOEXEC, 0);
  if (fd < 0) {
    const e = ffi.errno();
    const hint = e === ffi.EBUSY ? 'another process (another pktio or DPDK application, or QEMU) has it open; stop it first'
      : e === ffi.EACCES || e === ffi.EPERM ? 'run as root (VFIO nodes are root-only unless udev rules say otherwise)'
        : e === ffi.ENOENT ? 'the node does not exist: is the module loaded and the device bound to vfio-pci?' : undefined;
    throw new VfioError('SYSCALL', `open ${path} (${what}): ${ffi.strerror(e)} (errno ${e})${hint ? `. ${hint}` : ''}`, e);
  }
  return fd;
}

/**
 * IOVA width of the IOMMU that translates `bdf` (Intel VT-d: MGAW from sysfs .../iommu/intel-iommu/cap),
 * or null when sysfs does not say (AMD, no IOMMU, fake trees). QEMU's intel-iommu defaults to 39 bits,
 * less than a user VA can have (47), so IOVA = VA only works for memory reserved at low addresses.
 */
export function iommuAddressWidth(bdf: string, sysfsRoot = '/sys'): number | null {
  try {
    const cap = BigInt('0x' + readFileSync(join(pciDeviceDir(bdf, sysfsRoot), 'iommu/intel-iommu/cap'), 'utf8').trim());
    return Number((cap >> 16n) & 0x3fn) + 1;
  } catch {
    return null;
  }
}

export interface VfioIovaPlan {
  /** 'pa': a device is in a no-IOMMU group; 'va': all VFIO devices sit behind an IOMMU; null: no VFIO device. */
  iova: 'pa' | 'va' | null;
  /** The devices (normalized) bound to vfio-pci, and those among them in no-IOMMU groups. */
  vfioDevices: string[];
  noIommuDevices: string[];
  /** Smallest IOMMU address width among the devices, null when unknown. With 'va', every va+len must stay below 2^iovaBits. */
  iovaBits: number | null;
}

/**
 * What the EAL must know before it allocates memory. Looks only at sysfs and /dev: devices of `bdfs`
 * not bound to vfio-pci are ignored (attach() reports them). Throws NOIOMMU_NOT_ALLOWED when a device
 * is in a no-IOMMU group and allowNoIommu is off.
 */
export function vfioIovaPlan(bdfs: readonly string[], opts: VfioOptions = {}): VfioIovaPlan {
  const p: VfioPaths = { sysfsRoot: opts.sysfsRoot ?? '/sys', devRoot: opts.devRoot ?? '/dev' };
  const vfioDevices: string[] = [];
  const noIommuDevices: string[] = [];
  let bits: number | null = null;
  for (const a of bdfs) {
    let plan: DevicePlan;
    try {
      plan = planDevice(a, p);
    } catch (e) {
      // devices that VFIO cannot open are left to attach() to report; bad input and broken groups are not
      if (e instanceof VfioError && e.code !== 'NOT_VIABLE' && e.code !== 'BAD_ADDRESS') continue;
      throw e;
    }
    vfioDevices.push(plan.bdf);
    if (plan.noIommu) {
      if (!opts.allowNoIommu) throw noIommuNotAllowed(plan);
      noIommuDevices.push(plan.bdf);
    } else {
      const w = iommuAddressWidth(plan.bdf, p.sysfsRoot);
      if (w !== null) bits = bits === null ? w : Math.min(bits, w);
    }
  }
  return {
    iova: noIommuDevices.length > 0 ? 'pa' : vfioDevices.length > 0 ? 'va' : null,
    vfioDevices, noIommuDevices, iovaBits: bits,
  };
}

function noIommuNotAllowed(plan: DevicePlan): VfioError {
  return new VfioError('NOIOMMU_NOT_ALLOWED',
    `${plan.bdf} is in a VFIO no-IOMMU group (${plan.groupNode}): nothing confines its DMA, it can read and write ` +
    `all of RAM. To use it anyway pass the EAL option --vfio-noiommu (Vfio option allowNoIommu: true); ` +
    `to get isolation, boot with the IOMMU on (intel_iommu=on / amd_iommu=on) and bind it again`);
}

interface Group {
  fd: number;
  noIommu: boolean;
}

/** VFIO state of one process: the container or iommufd, the groups, the devices and the DMA map. */
export class Vfio {
  readonly #flow: VfioFlow;
  readonly #allowNoIommu: boolean;
  readonly #compat: boolean;
  readonly #paths: VfioPaths;
  readonly #log: VfioLogger;
  #segs: DmaSegment[] = [];
  // legacy container/group
  #container = -1;
  #containerType: 'type1' | 'noiommu' | null = null;
  #containerMapped = 0;
  #groups = new Map<number, Group>();
  // cdev + iommufd
  #iommufd = -1;
  #ioas = 0;
  #ioasMapped = 0;
  #type: IommuType | null = null;
  #devices = new Map<string, VfioDevice>();
  #closed = false;

  constructor(opts: VfioOptions = {}) {
    const flow = opts.flow ?? 'auto';
    if (flow !== 'auto' && flow !== 'legacy' && flow !== 'cdev') {
      throw new VfioError('BAD_ARGUMENT', `bad VFIO flow '${String(flow)}': expected auto, legacy or cdev (EAL --vfio-flow)`);
    }
    this.#flow = flow;
    this.#allowNoIommu = opts.allowNoIommu ?? false;
    this.#compat = opts.iommufdCompat ?? false;
    this.#paths = { sysfsRoot: opts.sysfsRoot ?? '/sys', devRoot: opts.devRoot ?? '/dev' };
    this.#log = opts.log ?? ealLog('vfio');
  }

  /** 'type1' (legacy container, also when iommufd serves it), 'noiommu', 'iommufd' (cdev flow), or null before the first attach. */
  get iommuType(): IommuType | null {
    return this.#type;
  }

  /** No-IOMMU mode: DMA addresses are physical, so the EAL must use IOVA = PA (hugepages, pagemap). */
  get requiresPhysicalIova(): boolean {
    return this.#type === 'noiommu';
  }

  devices(): VfioDevice[] {
    return [...this.#devices.values()];
  }

  #live(): void {
    if (this.#closed) throw new VfioError('CLOSED', 'this Vfio object is closed');
  }

  /**
   * Opens `bdf` (a device bound to vfio-pci) and returns it. The first call sets up the container or
   * the iommufd IOAS and maps the segments given to mapSegments() so far. Attaching the same device
   * twice returns the same object.
   */
  attach(addr: string): VfioDevice {
    this.#live();
    const plan = planDevice(addr, this.#paths);
    const have = this.#devices.get(plan.bdf);
    if (have) return have;
    if (plan.noIommu && !this.#allowNoIommu) throw noIommuNotAllowed(plan);
    const iommuNode = join(this.#paths.devRoot, 'iommu');
    let flow: 'legacy' | 'cdev';
    if (plan.noIommu) {
      if (this.#flow === 'cdev') {
        throw new VfioError('NO_CDEV',
          `${plan.bdf} is a no-IOMMU device and the kernel gives those no VFIO cdev (6.12 and earlier): ` +
          `use --vfio-flow legacy or auto (the no-IOMMU group ${plan.groupNode} is used then)`);
      }
      flow = 'legacy';
    } else if (this.#flow === 'legacy') {
      flow = 'legacy';
    } else {
      const cdevOk = plan.cdevNode !== null && existsSync(iommuNode);
      if (this.#flow === 'cdev' && !cdevOk) {
        const missing = [plan.cdevNode === null ? `${join(this.#paths.devRoot, 'vfio/devices')}/vfioN for ${plan.bdf} (kernel needs CONFIG_VFIO_DEVICE_CDEV, Linux 6.6+)` : null,
          existsSync(iommuNode) ? null : `${iommuNode} (load iommufd: modprobe iommufd; Linux 6.2+)`].filter(Boolean).join(' and ');
        throw new VfioError('NO_CDEV', `--vfio-flow cdev: missing ${missing}; or use --vfio-flow legacy`);
      }
      flow = cdevOk ? 'cdev' : 'legacy';
    }
    const fd = flow === 'cdev' ? this.#openCdev(plan) : this.#openLegacy(plan);
    let dev: VfioDevice;
    try {
      dev = new VfioDevice(plan.bdf, fd, flow, (d) => this.#devices.delete(d.bdf));
    } catch (e) {
      ffi.close(fd);
      throw e;
    }
    this.#devices.set(plan.bdf, dev);
    this.#log.debug({ bdf: plan.bdf, flow, iommu: this.#type, group: plan.group }, 'vfio device attached');
    return dev;
  }

  #openLegacy(plan: DevicePlan): number {
    if (this.#containerType !== null && (this.#containerType === 'noiommu') !== plan.noIommu) {
      throw new VfioError('MIXED',
        `${plan.bdf} is ${plan.noIommu ? '' : 'not '}in a no-IOMMU group but the devices attached before are ${plan.noIommu ? 'not' : ''}: ` +
        'one process cannot mix no-IOMMU and IOMMU-protected devices in one container; probe them in separate processes');
    }
    let g = this.#groups.get(plan.group);
    if (!g) {
      const fd = openNode(plan.groupNode, `VFIO group of ${plan.bdf}`);
      g = { fd, noIommu: plan.noIommu };
      try {
        const st = u.sizedStruct(u.VFIO_GROUP_STATUS_SIZE);
        sys(ffi.ioctlPtr(fd, u.VFIO_GROUP_GET_STATUS, st), `VFIO_GROUP_GET_STATUS ${plan.groupNode}`);
        if ((st.readUInt32LE(4) & u.VFIO_GROUP_FLAGS_VIABLE) === 0) throw notViableError(plan.bdf, plan.group, this.#paths.sysfsRoot);
        if (this.#container < 0) this.#openContainer();
        if ((st.readUInt32LE(4) & u.VFIO_GROUP_FLAGS_CONTAINER_SET) === 0) {
          const c = Buffer.alloc(4);
          c.writeInt32LE(this.#container, 0);
          sys(ffi.ioctlPtr(fd, u.VFIO_GROUP_SET_CONTAINER, c), `VFIO_GROUP_SET_CONTAINER ${plan.groupNode}`,
            this.#compat ? 'the iommufd container (iommufdCompat) needs Linux 6.2+ with iommufd loaded' : undefined);
        }
        if (this.#containerType === null) this.#setIommu(plan);
      } catch (e) {
        ffi.close(fd);
        throw e;
      }
      this.#groups.set(plan.group, g);
      this.#syncMaps();
    }
    const name = Buffer.from(plan.bdf + '\0');
    return sys(ffi.ioctlPtr(g.fd, u.VFIO_GROUP_GET_DEVICE_FD, name), `VFIO_GROUP_GET_DEVICE_FD ${plan.bdf}`,
      'is the device still bound to vfio-pci and not opened by another process?');
  }

  #openContainer(): void {
    const node = this.#compat ? join(this.#paths.devRoot, 'iommu') : join(this.#paths.devRoot, 'vfio/vfio');
    const fd = openNode(node, this.#compat ? 'iommufd as VFIO container' : 'VFIO container');
    const v = ffi.ioctlInt(fd, u.VFIO_GET_API_VERSION, 0);
    if (v !== u.VFIO_API_VERSION) {
      ffi.close(fd);
      throw new VfioError('SYSCALL', `${node}: VFIO API version ${v}, pktio speaks version ${u.VFIO_API_VERSION}`);
    }
    this.#container = fd;
  }

  #setIommu(plan: DevicePlan): void {
    const fd = this.#container;
    if (plan.noIommu) {
      if (!this.#compat) {
        // iommufd's compat container switches itself to no-IOMMU when the group is set
        if (ffi.ioctlInt(fd, u.VFIO_CHECK_EXTENSION, u.VFIO_NOIOMMU_IOMMU) !== 1) throw noIommuDisabledError(plan.bdf, this.#paths.sysfsRoot);
        sys(ffi.ioctlInt(fd, u.VFIO_SET_IOMMU, u.VFIO_NOIOMMU_IOMMU), 'VFIO_SET_IOMMU(NOIOMMU)', 'needs CAP_SYS_RAWIO (root)');
      }
      this.#containerType = 'noiommu';
      this.#type = 'noiommu';
      this.#log.warn({ bdf: plan.bdf, group: plan.groupNode, container: this.#compat ? 'iommufd' : 'vfio' },
        'VFIO NO-IOMMU MODE: nothing confines this device\'s DMA, it can read and write all of physical memory; ' +
        'DMA addresses are physical (IOVA = PA). Use only on trusted hardware and software');
      return;
    }
    const type = ffi.ioctlInt(fd, u.VFIO_CHECK_EXTENSION, u.VFIO_TYPE1v2_IOMMU) === 1 ? u.VFIO_TYPE1v2_IOMMU
      : ffi.ioctlInt(fd, u.VFIO_CHECK_EXTENSION, u.VFIO_TYPE1_IOMMU) === 1 ? u.VFIO_TYPE1_IOMMU : 0;
    if (type === 0) {
      throw new VfioError('NO_TYPE1', 'the VFIO container offers no type1 IOMMU: load it with modprobe vfio_iommu_type1');
    }
    sys(ffi.ioctlInt(fd, u.VFIO_SET_IOMMU, type), `VFIO_SET_IOMMU(${type === u.VFIO_TYPE1v2_IOMMU ? 'TYPE1v2' : 'TYPE1'})`);
    this.#containerType = 'type1';
    this.#type ??= 'type1';
  }

  #openCdev(plan: DevicePlan): number {
    if (this.#iommufd < 0) {
      const ifd = openNode(join(this.#paths.devRoot, 'iommu'), 'iommufd');
      const a = u.sizedStruct(u.IOMMU_IOAS_ALLOC_SIZE);
      try {
        sys(ffi.ioctlPtr(ifd, u.IOMMU_IOAS_ALLOC, a), 'IOMMU_IOAS_ALLOC');
      } catch (e) {
        ffi.close(ifd);
        throw e;
      }
      this.#iommufd = ifd;
      this.#ioas = a.readUInt32LE(8);
      this.#type ??= 'iommufd';
      this.#syncMaps();
    }
    const fd = openNode(plan.cdevNode!, `VFIO device cdev of ${plan.bdf}`);
    try {
      const b = u.sizedStruct(u.VFIO_DEVICE_BIND_IOMMUFD_SIZE);
      b.writeInt32LE(this.#iommufd, 8);
      sys(ffi.ioctlPtr(fd, u.VFIO_DEVICE_BIND_IOMMUFD, b), `VFIO_DEVICE_BIND_IOMMUFD ${plan.bdf}`,
        'iommufd refuses devices whose MSIs cannot be isolated unless iommufd is loaded with allow_unsafe_interrupts=1');
      const at = u.sizedStruct(u.VFIO_DEVICE_ATTACH_IOMMUFD_PT_SIZE);
      at.writeUInt32LE(this.#ioas, 8);
      sys(ffi.ioctlPtr(fd, u.VFIO_DEVICE_ATTACH_IOMMUFD_PT, at), `VFIO_DEVICE_ATTACH_IOMMUFD_PT ${plan.bdf} ioas ${this.#ioas}`);
    } catch (e) {
      ffi.close(fd);
      throw e;
    }
    return fd;
  }

  /**
   * Makes `segs` reachable by DMA at their iova (IOVA = VA when the EAL sets iova = va). Mapped at once
   * when a container or IOAS exists, otherwise when the first device is attached. No-IOMMU: nothing is
   * mapped (the kernel refuses MAP_DMA there), the device uses physical addresses.
   */
  mapSegments(segs: readonly DmaSegment[]): void {
    this.#live();
    for (const s of segs) {
      if (typeof s.va !== 'bigint' || typeof s.iova !== 'bigint' || !Number.isSafeInteger(s.len) || s.len <= 0) {
        throw new VfioError('BAD_ARGUMENT', 'DMA segment needs va and iova as BigInt and len as a positive integer');
      }
      if (s.va % PAGE !== 0n || s.iova % PAGE !== 0n || BigInt(s.len) % PAGE !== 0n) {
        throw new VfioError('BAD_ARGUMENT',
          `DMA segment va=0x${s.va.toString(16)} iova=0x${s.iova.toString(16)} len=${s.len} is not 4 KiB aligned: map whole pages`);
      }
    }
    this.#segs.push(...segs);
    this.#syncMaps();
  }

  #syncMaps(): void {
    if (this.#container >= 0 && this.#containerType === 'type1') {
      for (; this.#containerMapped < this.#segs.length; this.#containerMapped++) {
        const s = this.#segs[this.#containerMapped];
        const m = u.sizedStruct(u.VFIO_DMA_MAP_SIZE);
        m.writeUInt32LE(u.VFIO_DMA_MAP_FLAG_READ | u.VFIO_DMA_MAP_FLAG_WRITE, 4);
        m.writeBigUInt64LE(s.va, 8);
        m.writeBigUInt64LE(s.iova, 16);
        m.writeBigUInt64LE(BigInt(s.len), 24);
        sys(ffi.ioctlPtr(this.#container, u.VFIO_IOMMU_MAP_DMA, m),
          `VFIO_IOMMU_MAP_DMA va=0x${s.va.toString(16)} iova=0x${s.iova.toString(16)} len=0x${s.len.toString(16)}`, () => this.#mapHint(s));
      }
    }
    if (this.#iommufd >= 0) {
      for (; this.#ioasMapped < this.#segs.length; this.#ioasMapped++) {
        const s = this.#segs[this.#ioasMapped];
        const m = u.sizedStruct(u.IOMMU_IOAS_MAP_SIZE);
        m.writeUInt32LE(u.IOMMU_IOAS_MAP_FIXED_IOVA | u.IOMMU_IOAS_MAP_READABLE | u.IOMMU_IOAS_MAP_WRITEABLE, 4);
        m.writeUInt32LE(this.#ioas, 8);
        m.writeBigUInt64LE(s.va, 16);
        m.writeBigUInt64LE(BigInt(s.len), 24);
        m.writeBigUInt64LE(s.iova, 32);
        sys(ffi.ioctlPtr(this.#iommufd, u.IOMMU_IOAS_MAP, m),
          `IOMMU_IOAS_MAP va=0x${s.va.toString(16)} iova=0x${s.iova.toString(16)} len=0x${s.len.toString(16)}`, () => this.#mapHint(s));
      }
    }
  }

  #mapHint(s: DmaSegment): string {
    const bdf = [...this.#devices.keys()][0];
    const bits = bdf ? iommuAddressWidth(bdf, this.#paths.sysfsRoot) : null;
    const end = s.iova + BigInt(s.len);
    if (bits !== null && end > 1n << BigInt(bits)) {
      return `IOVA end 0x${end.toString(16)} is beyond the IOMMU's ${bits}-bit address width: reserve memory below 2^${bits} ` +
        '(for IOVA = VA) or give the segments IOVAs that fit';
    }
    return 'is the memory mapped, not overlapping an earlier segment, and outside reserved IOVA ranges (MSI window 0xfee00000)?';
  }

  /** Closes every device, unmaps DMA and closes the group, container and iommufd fds. Idempotent. */
  close(): void {
    if (this.#closed) return;
    for (const d of [...this.#devices.values()]) d.close();
    if (this.#container >= 0 && this.#containerType === 'type1') {
      for (const s of this.#segs.slice(0, this.#containerMapped)) {
        const m = u.sizedStruct(u.VFIO_DMA_UNMAP_SIZE);
        m.writeBigUInt64LE(s.iova, 8);
        m.writeBigUInt64LE(BigInt(s.len), 16);
        ffi.ioctlPtr(this.#container, u.VFIO_IOMMU_UNMAP_DMA, m);
      }
    }
    for (const g of this.#groups.values()) {
      ffi.ioctlPtr(g.fd, u.VFIO_GROUP_UNSET_CONTAINER, null);
      ffi.close(g.fd);
    }
    this.#groups.clear();
    if (this.#container >= 0) ffi.close(this.#container);
    if (this.#iommufd >= 0) {
      for (const s of this.#segs.slice(0, this.#ioasMapped)) {
        const m = u.sizedStruct(u.IOMMU_IOAS_UNMAP_SIZE);
        m.writeUInt32LE(this.#ioas, 4);
        m.writeBigUInt64LE(s.iova, 8);
        m.writeBigUInt64LE(BigInt(s.len), 16);
        ffi.ioctlPtr(this.#iommufd, u.IOMMU_IOAS_UNMAP, m);
      }
      const d = u.sizedStruct(u.IOMMU_DESTROY_SIZE);
      d.writeUInt32LE(this.#ioas, 4);
      ffi.ioctlPtr(this.#iommufd, u.IOMMU_DESTROY, d);
      ffi.close(this.#iommufd);
    }
    this.#container = -1;
    this.#iommufd = -1;
    this.#closed = true;
  }
}

/** 'Y' when vfio's no-IOMMU mode is on, 'N' when off, null when vfio (or its no-IOMMU support) is absent. */
export function vfioNoIommuEnabled(sysfsRoot = '/sys'): 'Y' | 'N' | null {
  return noIommuParam(sysfsRoot);
}

/** Normalized address or VfioError BAD_ADDRESS. */
export function vfioParseAddress(s: string): string {
  try {
    return parsePciAddress(s);
  } catch (e) {
    throw new VfioError('BAD_ADDRESS', (e as Error).message);
  }
}

/** VFIO-bound devices in sysfs (driver vfio-pci), for tools and diagnostics. */
export function vfioBoundDevices(sysfsRoot = '/sys'): string[] {
  try {
    return readdirSync(join(sysfsRoot, 'bus/pci/drivers/vfio-pci')).filter((n) => /^[0-9a-f]{4}:/.test(n)).sort();
  } catch {
    return [];
  }
}
