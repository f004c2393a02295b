// The PmdInfo of an Intel family: PCI IDs from the device table, the shared data plane, and a probe that opens
// the function, checks that its device ID belongs to the family and builds the family's port.
import type { PmdInfo, PmdDataPlane, EthDevOps } from '../../driver.js';
import { registerDataPlane } from '../../registry.js';
import { pciAccess, type PciDeviceAccess } from '../../pci/access.js';
import { INTEL_DEVICES, intelDevice, type IntelDevice, type IntelDriver } from '../devices.js';
import { IntelRxQueue } from './rxq.js';
import { IntelTxQueue } from './txq.js';

/** Every Intel family's queues are the shared classes; the spec carries the family's descriptor format. */
export const intelDataPlane: PmdDataPlane = {
  attachRx: (spec, stats) => new IntelRxQueue(spec, stats),
  attachTx: (spec, stats) => new IntelTxQueue(spec, stats),
};

/**
 * Builds and registers (data plane, on this thread) the PmdInfo of a family. `moduleUrl` is the family module's
 * import.meta.url: worker lcores import it to get the data plane.
 */
export function intelPmd(driver: IntelDriver, moduleUrl: string,
  make: (bdf: string, dev: PciDeviceAccess, model: IntelDevice) => EthDevOps): PmdInfo {
  const pmd: PmdInfo = {
    name: driver,
    dataPlaneUrl: moduleUrl,
    pciIds: INTEL_DEVICES.filter((d) => d.driver === driver).map((d) => ({ vendor: 0x8086, device: d.device })),
    dataPlane: intelDataPlane,
    probePci(bdf, vfio) {
      const dev = pciAccess(driver, bdf, vfio);
      try {
        const model = intelDevice(dev.deviceId);
        if (dev.vendorId !== 0x8086 || !model || model.driver !== driver) {
          const id = `${dev.vendorId.toString(16).padStart(4, '0')}:${dev.deviceId.toString(16).padStart(4, '0')}`;
          throw new Error(`${driver} ${bdf}: device ${id} is not one ${driver} drives (see src/pmd/intel/devices.ts)`);
        }
        return make(bdf, dev, model);
      } catch (e) {
        dev.close();
        throw e;
      }
    },
  };
  registerDataPlane(driver, intelDataPlane);
  return pmd;
}
