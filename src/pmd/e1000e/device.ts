// How the e1000e PMD reaches its PCI function: a small interface, so the driver core runs against a VFIO device in
// production and against a simulated register file in tests.
import type { Vfio, VfioDevice } from '../../vfio/index.js';

/** What the driver needs from a PCI function. BAR 0 must stay mapped until close(). */
export interface PciDeviceAccess {
  readonly bdf: string;
  /** BAR 0 (memory registers, 128 KiB on the 82574): a native address every thread can make a view of */
  readonly bar0: { addr: bigint; len: number };
  /** Bus mastering on/off (DMA). */
  setBusMaster(on: boolean): void;
  /** Function-level reset through the bus, if offered (the driver also resets the MAC with CTRL.RST). */
  reset(): void;
  /** Releases the function: bus mastering off, BAR unmapped, fd closed. */
  close(): void;
}

/** Turns an attached VFIO device into what the driver needs: memory decoding on, BAR 0 mapped. */
export function vfioPciAccess(dev: VfioDevice): PciDeviceAccess {
  dev.enableMemory();
  const bar0 = dev.mapBar(0);
  return {
    bdf: dev.bdf,
    bar0,
    setBusMaster: (on) => { dev.setBusMaster(on); },
    reset: () => { dev.reset(); },
    close: () => dev.close(),
  };
}

export type PciAccessProvider = (bdf: string) => PciDeviceAccess;

let provider: PciAccessProvider | null = null;

/**
 * Overrides how probePci opens a PCI function (tests pass a simulated device; null restores the default, which is
 * vfioPciAccess(vfio.attach(bdf)) with the Vfio object the EAL hands to probePci).
 */
export function setPciAccessProvider(p: PciAccessProvider | null): void {
  provider = p;
}

export function pciAccess(bdf: string, vfio: Vfio | null | undefined): PciDeviceAccess {
  if (provider) return provider(bdf);
  if (!vfio) {
    throw new Error(`net_e1000e ${bdf}: no VFIO: bind the device to vfio-pci (npx pktio-devbind -b vfio-pci ${bdf}) ` +
      'and let the EAL probe it (-a)');
  }
  return vfioPciAccess(vfio.attach(bdf));
}
