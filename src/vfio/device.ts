// One opened VFIO PCI device: regions, BAR mmap, config space, command register, reset, irq info.
// Control path only; the PMD keeps the koffi.view() of a BAR for its register accesses.
import * as ffi from '../eal/ffi.js';
import { VfioError } from './errors.js';
import { IRQ_INDEX, irqBind, irqOff, intxUnmask, type IrqKind } from './irq.js';
import * as u from './uapi.js';

export interface RegionInfo {
  index: number;
  flags: number;
  /** Bytes; 0 for an unimplemented BAR. */
  size: bigint;
  /** Offset of the region in the device fd (for pread/pwrite/mmap). */
  offset: bigint;
  readable: boolean;
  writable: boolean;
  mmappable: boolean;
}

export interface IrqInfo {
  index: number;
  flags: number;
  count: number;
}

export interface BarMapping {
  /** Native address of the mapping (make views with koffi.view / ffi.view). */
  addr: bigint;
  len: number;
}

function sys(rc: number, what: string, hint?: string): number {
  if (rc < 0) {
    const e = ffi.errno();
    throw new VfioError('SYSCALL', `${what}: ${ffi.strerror(e)} (errno ${e})${hint ? `. ${hint}` : ''}`, e);
  }
  return rc;
}

export class VfioDevice {
  readonly bdf: string;
  /** How the device was opened. */
  readonly flow: 'legacy' | 'cdev';
  readonly numRegions: number;
  readonly numIrqs: number;
  /** VFIO_DEVICE_FLAGS_* (RESET = 1, PCI = 2). */
  readonly flags: number;
  #fd: number;
  #cfg: bigint;
  #bars = new Map<number, BarMapping>();
  #onClose: (d: VfioDevice) => void;
  /** the irq index bound to eventfds (INTx, MSI or MSI-X), -1 when none */
  #irqIndex = -1;

  /** @internal Made by Vfio.attach(). Takes ownership of fd. */
  constructor(bdf: string, fd: number, flow: 'legacy' | 'cdev', onClose: (d: VfioDevice) => void) {
    this.bdf = bdf;
    this.flow = flow;
    this.#fd = fd;
    this.#onClose = onClose;
    const b = u.sizedStruct(u.VFIO_DEVICE_INFO_SIZE);
    sys(ffi.ioctlPtr(fd, u.VFIO_DEVICE_GET_INFO, b), `VFIO_DEVICE_GET_INFO ${bdf}`);
    this.flags = b.readUInt32LE(4);
    this.numRegions = b.readUInt32LE(8);
    this.numIrqs = b.readUInt32LE(12);
    if ((this.flags & u.VFIO_DEVICE_FLAGS_PCI) === 0) {
      throw new VfioError('BAD_ARGUMENT', `${bdf}: the VFIO device is not a PCI device (flags 0x${this.flags.toString(16)})`);
    }
    this.#cfg = this.regionInfo(u.VFIO_PCI_CONFIG_REGION_INDEX).offset;
  }

  /** The device fd (for SET_IRQS and such; owned by this object). */
  get fd(): number {
    this.#live();
    return this.#fd;
  }

  #live(): void {
    if (this.#fd < 0) throw new VfioError('CLOSED', `VFIO device ${this.bdf} is closed`);
  }

  regionInfo(index: number): RegionInfo {
    this.#live();
    if (!Number.isInteger(index) || index < 0 || index >= this.numRegions) {
      throw new VfioError('BAD_ARGUMENT', `${this.bdf}: region ${index} does not exist (the device has regions 0..${this.numRegions - 1}; BARs are 0-5, config space is 7)`);
    }
    const b = u.sizedStruct(u.VFIO_REGION_INFO_SIZE);
    b.writeUInt32LE(index, 8);
    sys(ffi.ioctlPtr(this.#fd, u.VFIO_DEVICE_GET_REGION_INFO, b), `VFIO_DEVICE_GET_REGION_INFO ${this.bdf} region ${index}`);
    const flags = b.readUInt32LE(4);
    return {
      index, flags, size: b.readBigUInt64LE(16), offset: b.readBigUInt64LE(24),
      readable: (flags & u.VFIO_REGION_INFO_FLAG_READ) !== 0,
      writable: (flags & u.VFIO_REGION_INFO_FLAG_WRITE) !== 0,
      mmappable: (flags & u.VFIO_REGION_INFO_FLAG_MMAP) !== 0,
    };
  }

  /** mmaps BAR `index` (read/write, shared). Mapping the same BAR twice returns the first mapping. */
  mapBar(index: number): BarMapping {
    this.#live();
    if (!Number.isInteger(index) || index < 0 || index > u.VFIO_PCI_BAR5_REGION_INDEX) {
      throw new VfioError('BAD_ARGUMENT', `${this.bdf}: BAR ${index} does not exist: BARs are numbered 0-5`);
    }
    const have = this.#bars.get(index);
    if (have) return have;
    const r = this.regionInfo(index);
    if (r.size === 0n) throw new VfioError('BAD_ARGUMENT', `${this.bdf}: BAR ${index} is not implemented by the device (size 0)`);
    if (!r.mmappable) {
      throw new VfioError('BAD_ARGUMENT', `${this.bdf}: BAR ${index} cannot be mmapped (an I/O-port BAR, or one vfio-pci only allows through pread/pwrite)`);
    }
    const len = Number(r.size);
    const addr = ffi.mmap(null, len, ffi.PROT_READ | ffi.PROT_WRITE, ffi.MAP_SHARED, this.#fd, r.offset);
    if (addr === ffi.MAP_FAILED || addr === null) sys(-1, `mmap of ${this.bdf} BAR ${index} (${len} bytes)`);
    const m = { addr, len };
    this.#bars.set(index, m);
    return m;
  }

  #cfgIo(off: number, size: 1 | 2 | 4, write: number | null): number {
    this.#live();
    if (!Number.isInteger(off) || off < 0 || off + size > 4096 || off % size !== 0) {
      throw new VfioError('BAD_ARGUMENT', `${this.bdf}: config space offset ${off} is not a ${size}-byte aligned offset below 4096`);
    }
    const b = Buffer.alloc(4);
    const pos = this.#cfg + BigInt(off);
    if (write === null) {
      const n = sys(ffi.pread(this.#fd, b, size, pos), `config read ${this.bdf} +0x${off.toString(16)}`);
      if (n !== size) throw new VfioError('SYSCALL', `config read ${this.bdf} +0x${off.toString(16)}: short read (${n} of ${size} bytes)`);
      return size === 1 ? b.readUInt8(0) : size === 2 ? b.readUInt16LE(0) : b.readUInt32LE(0);
    }
    if (size === 1) b.writeUInt8(write & 0xff, 0);
    else if (size === 2) b.writeUInt16LE(write & 0xffff, 0);
    else b.writeUInt32LE(write >>> 0, 0);
    const n = sys(ffi.pwrite(this.#fd, b, size, pos), `config write ${this.bdf} +0x${off.toString(16)}`);
    if (n !== size) throw new VfioError('SYSCALL', `config write ${this.bdf} +0x${off.toString(16)}: short write (${n} of ${size} bytes)`);
    return n;
  }

  cfgRead8(off: number): number { return this.#cfgIo(off, 1, null); }
  cfgRead16(off: number): number { return this.#cfgIo(off, 2, null); }
  cfgRead32(off: number): number { return this.#cfgIo(off, 4, null); }
  cfgWrite8(off: number, v: number): void { this.#cfgIo(off, 1, v); }
  cfgWrite16(off: number, v: number): void { this.#cfgIo(off, 2, v); }
  cfgWrite32(off: number, v: number): void { this.#cfgIo(off, 4, v); }

  /** PCI_COMMAND register. */
  command(): number {
    return this.cfgRead16(u.PCI_COMMAND);
  }

  /** Turns on memory-space decoding (needed before touching a memory BAR). */
  enableMemory(): void {
    const c = this.command();
    if ((c & u.PCI_COMMAND_MEMORY) === 0) this.cfgWrite16(u.PCI_COMMAND, c | u.PCI_COMMAND_MEMORY);
  }

  /**
   * Bus mastering on (the device may DMA; vfio-pci leaves it off after open) or off (stop all DMA,
   * e.g. before unmapping memory). Returns the new PCI_COMMAND value.
   */
  setBusMaster(on: boolean): number {
    const c = this.command();
    const n = on ? c | u.PCI_COMMAND_MASTER : c & ~u.PCI_COMMAND_MASTER;
    if (n !== c) this.cfgWrite16(u.PCI_COMMAND, n);
    return this.command();
  }

  /** VFIO_DEVICE_RESET (function-level or similar reset). Returns false when the device offers no reset. */
  reset(): boolean {
    this.#live();
    if ((this.flags & u.VFIO_DEVICE_FLAGS_RESET) === 0) return false;
    sys(ffi.ioctlInt(this.#fd, u.VFIO_DEVICE_RESET, 0), `VFIO_DEVICE_RESET ${this.bdf}`);
    return true;
  }

  /** VFIO_DEVICE_GET_IRQ_INFO for irq index 0 INTx, 1 MSI, 2 MSI-X, 3 ERR, 4 REQ. */
  irqInfo(index: number): IrqInfo {
    this.#live();
    if (!Number.isInteger(index) || index < 0 || index >= this.numIrqs) {
      throw new VfioError('BAD_ARGUMENT', `${this.bdf}: irq index ${index} does not exist (0 INTx, 1 MSI, 2 MSI-X, 3 ERR, 4 REQ; the device has ${this.numIrqs})`);
    }
    const b = u.sizedStruct(u.VFIO_IRQ_INFO_SIZE);
    b.writeUInt32LE(index, 8);
    sys(ffi.ioctlPtr(this.#fd, u.VFIO_DEVICE_GET_IRQ_INFO, b), `VFIO_DEVICE_GET_IRQ_INFO ${this.bdf} index ${index}`);
    return { index, flags: b.readUInt32LE(4), count: b.readUInt32LE(12) };
  }

  /** Vectors of an interrupt kind the device offers (0: none; an INTx the device has no pin for counts 0). */
  irqCount(kind: IrqKind): number {
    const i = IRQ_INDEX[kind];
    return i < this.numIrqs ? this.irqInfo(i).count : 0;
  }

  /** The interrupt kind bound to eventfds now, or null. */
  get irqEnabled(): IrqKind | null {
    return this.#irqIndex < 0 ? null : (['intx', 'msi', 'msix'] as const)[this.#irqIndex];
  }

  #bindIrqs(kind: IrqKind, eventfds: readonly number[]): void {
    this.#live();
    const have = this.irqCount(kind);
    if (eventfds.length === 0 || eventfds.length > have) {
      throw new VfioError('BAD_ARGUMENT', `${this.bdf}: ${eventfds.length} ${kind.toUpperCase()} vectors asked for, the device offers ${have}` +
        (have === 0 ? '' : ` (give 1..${have} eventfds)`));
    }
    if (this.#irqIndex >= 0) this.disableIrqs();
    irqBind(this.#fd, this.bdf, IRQ_INDEX[kind], eventfds);
    this.#irqIndex = IRQ_INDEX[kind];
  }

  /** MSI-X vectors 0..n-1 signal eventfds[0..n-1] (enables MSI-X; any other kind bound before is turned off). */
  enableMsix(eventfds: readonly number[]): void {
    this.#bindIrqs('msix', eventfds);
  }

  /** MSI vectors 0..n-1 signal eventfds[0..n-1] (n a power of two up to what the device offers; usually 1). */
  enableMsi(eventfds: readonly number[]): void {
    this.#bindIrqs('msi', eventfds);
  }

  /** The INTx line signals `eventfd`; the kernel masks the line when it fires: unmaskIntx() once the cause is handled. */
  enableIntx(eventfd: number): void {
    this.#bindIrqs('intx', [eventfd]);
  }

  unmaskIntx(): void {
    this.#live();
    if (this.#irqIndex !== u.VFIO_PCI_INTX_IRQ_INDEX) throw new VfioError('BAD_ARGUMENT', `${this.bdf}: INTx is not enabled (enableIntx first)`);
    intxUnmask(this.#fd, this.bdf);
  }

  /** Unbinds every vector of the kind enabled (DATA_NONE | ACTION_TRIGGER, count 0). No-op when none is. */
  disableIrqs(): void {
    this.#live();
    if (this.#irqIndex < 0) return;
    const i = this.#irqIndex;
    this.#irqIndex = -1;
    irqOff(this.#fd, this.bdf, i);
  }

  /**
   * Turns bus mastering off (so the device stops DMA before its memory goes away), unmaps the BARs
   * and closes the device fd. Views made over a BAR must not be used afterwards. Idempotent.
   */
  close(): void {
    if (this.#fd < 0) return;
    try {
      this.setBusMaster(false);
      this.disableIrqs();
    } catch {
      // best effort: the device may be gone
    }
    for (const m of this.#bars.values()) ffi.munmap(m.addr, m.len);
    this.#bars.clear();
    ffi.close(this.#fd);
    this.#fd = -1;
    this.#onClose(this);
  }
}
