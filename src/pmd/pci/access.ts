// How a PCI driver reaches its function: a small interface, so driver code runs against a VFIO device in production
// and against a simulated register file in tests (setPciAccessProvider).
import type { Vfio, VfioDevice } from '../../vfio/index.js';

/**
 * Side effects of register accesses that plain memory lacks (clear-on-read counters, self-clearing bits, a PHY
 * answering through MDIC): a simulated device sets this so the driver's control path behaves as on hardware.
 * Production devices leave it unset and drivers then touch only the mapped BAR.
 */
export interface MmioHook {
  /** called after a control-path read of BAR 0 (or of BAR `bar`) at `off` returned `v`; returns what the driver sees */
  read(off: number, v: number, bar?: number): number;
  /** called after a control-path write of `v` to BAR 0 (or to BAR `bar`) at `off` */
  write(off: number, v: number, bar?: number): void;
}

/** A function's interrupt vectors bound to eventfds (VfioDevice's, ../../vfio/irq.ts; a test's fake). */
export interface PciIrqAccess {
  /** MSI-X vectors the function offers (0: none) */
  msixCount(): number;
  /** vector i signals eventfds[i] */
  enableMsix(eventfds: readonly number[]): void;
  /** every vector unbound */
  disable(): void;
}

/** What a PCI driver needs from its function. BARs stay mapped until close(). */
export interface PciDeviceAccess {
  readonly bdf: string;
  /** PCI vendor and device ID (config space 0x00 / 0x02) */
  readonly vendorId: number;
  readonly deviceId: number;
  /** BAR 0 (the memory registers of Intel NICs): a native address every thread can make a view of */
  readonly bar0: { addr: bigint; len: number };
  /** register side effects of a simulated device (tests); unset for real ones */
  readonly mmioHook?: MmioHook;
  /** Config-space reads (capability lists: virtio finds its register blocks there). */
  cfgRead8?(off: number): number;
  cfgRead16?(off: number): number;
  cfgRead32?(off: number): number;
  /** Maps memory BAR n (any BAR; mapped once, until close()). */
  mapBar?(n: number): { addr: bigint; len: number };
  /** Does an IOMMU translate the function's DMA (VFIO type1 / iommufd)? false in no-IOMMU mode; unset: unknown. */
  readonly iommu?: boolean;
  /** Interrupts (absent: the driver polls only and says so when asked for interrupts). */
  readonly irq?: PciIrqAccess;
  /** Bus mastering on/off (DMA). */
  setBusMaster(on: boolean): void;
  /** Function-level reset through the bus, if offered (drivers also reset the MAC through their registers). */
  reset(): void;
  /** Releases the function: bus mastering off, BARs unmapped, fd closed. */
  close(): void;
}

const PCI_VENDOR_ID = 0x00;
const PCI_DEVICE_ID = 0x02;

export interface PciAccessOptions {
  /** map BAR 0 at open (default true; virtio's BAR 0 is a legacy I/O BAR, its registers are wherever the
   * capabilities say, mapped through mapBar) */
  mapBar0?: boolean;
  /** an IOMMU translates DMA (what PciDeviceAccess.iommu reports) */
  iommu?: boolean;
}

/** Turns an attached VFIO device into what drivers need: memory decoding on, BAR 0 mapped, IDs read. */
export function vfioPciAccess(dev: VfioDevice, o: PciAccessOptions = {}): PciDeviceAccess {
  dev.enableMemory();
  const bar0 = o.mapBar0 === false ? { addr: 0n, len: 0 } : dev.mapBar(0);
  return {
    bdf: dev.bdf,
    vendorId: dev.cfgRead16(PCI_VENDOR_ID),
    deviceId: dev.cfgRead16(PCI_DEVICE_ID),
    bar0,
    cfgRead8: (off) => dev.cfgRead8(off),
    cfgRead16: (off) => dev.cfgRead16(off),
    cfgRead32: (off) => dev.cfgRead32(off),
    mapBar: (n) => dev.mapBar(n),
    iommu: o.iommu,
    irq: { msixCount: () => dev.irqCount('msix'), enableMsix: (fds) => dev.enableMsix(fds), disable: () => dev.disableIrqs() },
    setBusMaster: (on) => { dev.setBusMaster(on); },
    reset: () => { dev.reset(); },
    close: () => dev.close(),
  };
}

export type PciAccessProvider = (bdf: string) => PciDeviceAccess;

let provider: PciAccessProvider | null = null;

/**
 * Overrides how PCI drivers open a function (tests pass a simulated device; null restores the default,
 * vfioPciAccess(vfio.attach(bdf)) with the Vfio object the EAL hands to probePci).
 */
export function setPciAccessProvider(p: PciAccessProvider | null): void {
  provider = p;
}

/** Opens a PCI function for `driver` (named in the error when VFIO is missing). */
export function pciAccess(driver: string, bdf: string, vfio: Vfio | null | undefined, o: PciAccessOptions = {}): PciDeviceAccess {
  if (provider) return provider(bdf);
  if (!vfio) {
    throw new Error(`${driver} ${bdf}: no VFIO: bind the device to vfio-pci (npx pktio-devbind --bind vfio-pci ${bdf}) ` +
      'and let the EAL probe it (-a)');
  }
  return vfioPciAccess(vfio.attach(bdf), { ...o, iommu: vfio.iommuType !== 'noiommu' });
}
