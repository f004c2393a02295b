// net_virtio: the virtio-net PMD for modern virtio PCI functions (1af4:1041, and transitional 1af4:1000 driven
// through their modern interface), split and packed virtqueues, multi-queue, mergeable RX buffers.
// Layout of this directory:
//   spec.ts     the specification's constants and structure layouts
//   pci.ts      capabilities, common configuration, notifications, device configuration
//   features.ts feature negotiation
//   port.ts     the control half (EthDevOps); vqmem.ts one virtqueue's memory; ctrl.ts the control virtqueue
//   layout.ts   state words and queue specs shared by both halves
//   vq.ts, rxq.ts, txq.ts  the data half
import type { PmdInfo, PmdDataPlane } from '../driver.js';
import { registerDataPlane } from '../registry.js';
import { pciAccess } from '../pci/access.js';
import { SplitRxQueue, PackedRxQueue } from './rxq.js';
import { SplitTxQueue, PackedTxQueue } from './txq.js';
import { VirtioPort, DRIVER, type VirtioOptions } from './port.js';
import { VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_NET_MODERN, VIRTIO_PCI_DEVICE_NET_TRANSITIONAL } from './spec.js';
import type { RingChoice } from './features.js';

const layoutOf = (spec: unknown): unknown => (spec as { layout?: unknown } | null)?.layout;

export const virtioDataPlane: PmdDataPlane = {
  attachRx: (spec, stats) => (layoutOf(spec) === 'packed' ? new PackedRxQueue(spec, stats) : new SplitRxQueue(spec, stats)),
  attachTx: (spec, stats) => (layoutOf(spec) === 'packed' ? new PackedTxQueue(spec, stats) : new SplitTxQueue(spec, stats)),
};

const IDS = [VIRTIO_PCI_DEVICE_NET_MODERN, VIRTIO_PCI_DEVICE_NET_TRANSITIONAL];

let ringChoice: RingChoice = 'auto';

/**
 * Forces the ring layout of ports probed from now on (DPDK's packed_vq devarg): 'split', 'packed', or 'auto'
 * (packed when the device offers VIRTIO_F_RING_PACKED). PCI devargs (-a BDF,packed_vq=0|1) set it per device.
 */
export function setVirtioRing(r: RingChoice): void {
  ringChoice = r;
}

/** packed_vq=0|1 of a PCI devarg list, else the process-wide choice. */
function ringOf(args: Map<string, string> | undefined): RingChoice {
  const v = args?.get('packed_vq');
  if (v === undefined) return ringChoice;
  if (v === '1') return 'packed';
  if (v === '0') return 'split';
  throw new Error(`${DRIVER}: packed_vq=${v}: expected 0 (split virtqueues) or 1 (packed virtqueues)`);
}

/** event_idx=0|1 of a PCI devarg list (default 0: VIRTIO_F_EVENT_IDX declined, as DPDK does). */
function eventIdxOf(args: Map<string, string> | undefined): boolean {
  const v = args?.get('event_idx');
  if (v === undefined || v === '0') return false;
  if (v === '1') return true;
  throw new Error(`${DRIVER}: event_idx=${v}: expected 0 (NO_NOTIFY flags, the default) or 1 (accept VIRTIO_F_EVENT_IDX)`);
}

export const pmd: PmdInfo = {
  name: DRIVER,
  dataPlaneUrl: import.meta.url,
  pciIds: IDS.map((device) => ({ vendor: VIRTIO_PCI_VENDOR, device })),
  dataPlane: virtioDataPlane,
  vdevArgs: ['packed_vq', 'event_idx'],
  probePci(bdf, vfio, args?: Map<string, string>) {
    const opts: VirtioOptions = { ring: ringOf(args), eventIdx: eventIdxOf(args) };
    const dev = pciAccess(DRIVER, bdf, vfio, { mapBar0: false });
    try {
      if (dev.vendorId !== VIRTIO_PCI_VENDOR || !IDS.includes(dev.deviceId)) {
        const id = `${dev.vendorId.toString(16).padStart(4, '0')}:${dev.deviceId.toString(16).padStart(4, '0')}`;
        throw new Error(`${DRIVER} ${bdf}: device ${id} is not a virtio-net function (1af4:1041 or 1af4:1000)`);
      }
      return new VirtioPort(bdf, dev, opts);
    } catch (e) {
      dev.close();
      throw e;
    }
  },
};

registerDataPlane(DRIVER, virtioDataPlane);
