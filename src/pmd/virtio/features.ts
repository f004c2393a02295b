// Feature negotiation [2.2, 3.1.1]: which of the offered features pktio accepts for a port's configuration, and
// which one is missing when the configuration cannot be had. A pure function of the offer, so tests and messages
// see the same decisions the port makes.
import {
  VIRTIO_F_VERSION_1, VIRTIO_F_ACCESS_PLATFORM, VIRTIO_F_RING_PACKED, VIRTIO_F_IN_ORDER, VIRTIO_F_EVENT_IDX,
  VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_MTU, VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_MQ, VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_SPEED_DUPLEX,
  bit, has, featureName,
} from './spec.js';

export type RingChoice = 'auto' | 'split' | 'packed';

/** What a configuration asks of the device. */
export interface FeatureNeeds {
  queuePairs: number;
  /** RX checksum flags asked (RX_OFFLOAD_UDP/TCP_CKSUM): GUEST_CSUM */
  rxCsum: boolean;
  /** TX checksum offload asked (TX_OFFLOAD_UDP/TCP_CKSUM): CSUM */
  txCsum: boolean;
  /** frames longer than one receive buffer: MRG_RXBUF */
  bigFrames: boolean;
  ring: RingChoice;
  /** an IOMMU translates DMA: the device must honour it (ACCESS_PLATFORM) */
  iommu: boolean;
  /** take VIRTIO_F_EVENT_IDX when offered (the event_idx=1 devarg; off by default, see below) */
  eventIdx: boolean;
}

/**
 * Accepted whenever offered: they change nothing pktio relies on, or pktio handles them.
 *
 * VIRTIO_F_EVENT_IDX is not among them, as it is not in DPDK's VIRTIO_PMD_DEFAULT_GUEST_FEATURES: a polling
 * driver gains nothing from it, and against QEMU's virtio-net it costs notifications. While its TX bottom half is
 * pending or running, QEMU "disables" notifications; with EVENT_IDX that means avail_event = the avail index of that
 * moment (hw/virtio/virtio.c, virtio_queue_split_set_notification), so the driver's very next burst notifies again,
 * while without EVENT_IDX the used ring's NO_NOTIFY flag holds every burst back until the flush is over. Under TCG a
 * notification is an MMIO exit that waits for QEMU's big lock, which that bottom half holds while it flushes. Measured
 * in the rig's l2fwd bench: 0.012 notifications per packet with EVENT_IDX, DPDK's 0.0036 without.
 */
const TAKEN_IF_OFFERED = [
  VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_MTU, VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_F_IN_ORDER, VIRTIO_NET_F_SPEED_DUPLEX,
];

export type Negotiation = { features: bigint; missing: null } | { features: bigint; missing: string; why: string };

/** The features to write for `needs` out of `offered`, or the first feature the configuration needs and lacks. */
export function chooseFeatures(offered: bigint, needs: FeatureNeeds): Negotiation {
  let f = 0n;
  const want: Array<[number, boolean, string]> = [
    // [feature, needed, why]
    [VIRTIO_F_VERSION_1, true, 'pktio drives modern (virtio 1.0+) devices only'],
    [VIRTIO_F_ACCESS_PLATFORM, needs.iommu, 'an IOMMU translates DMA (VFIO type1/iommufd), and a device without it bypasses the IOMMU: ' +
      'give QEMU iommu_platform=on (and ats=on) or use no-IOMMU mode'],
    [VIRTIO_NET_F_MQ, needs.queuePairs > 1, `${needs.queuePairs} queue pairs were asked`],
    [VIRTIO_NET_F_CTRL_VQ, needs.queuePairs > 1, `${needs.queuePairs} queue pairs are set through the control virtqueue`],
    [VIRTIO_NET_F_GUEST_CSUM, needs.rxCsum, 'RX checksum offload was asked'],
    [VIRTIO_NET_F_CSUM, needs.txCsum, 'TX checksum offload was asked'],
    [VIRTIO_NET_F_MRG_RXBUF, needs.bigFrames, 'frames longer than one receive buffer (the MTU) need mergeable buffers'],
    [VIRTIO_F_RING_PACKED, needs.ring === 'packed', 'the packed ring layout was forced (packed_vq=1)'],
  ];
  for (const [n, needed, why] of want) {
    if (has(offered, n)) {
      if (needed) f |= bit(n);
    } else if (needed) {
      return { features: f, missing: featureName(n), why };
    }
  }
  for (const n of TAKEN_IF_OFFERED) if (has(offered, n)) f |= bit(n);
  if (needs.eventIdx && has(offered, VIRTIO_F_EVENT_IDX)) f |= bit(VIRTIO_F_EVENT_IDX);
  // a device that offers ACCESS_PLATFORM may refuse a driver that does not accept it [6.1]
  if (has(offered, VIRTIO_F_ACCESS_PLATFORM)) f |= bit(VIRTIO_F_ACCESS_PLATFORM);
  if (has(f, VIRTIO_NET_F_CTRL_VQ)) {
    if (has(offered, VIRTIO_NET_F_CTRL_RX)) f |= bit(VIRTIO_NET_F_CTRL_RX);
    if (has(offered, VIRTIO_NET_F_MQ)) f |= bit(VIRTIO_NET_F_MQ);
  }
  if (needs.ring === 'auto' && has(offered, VIRTIO_F_RING_PACKED)) f |= bit(VIRTIO_F_RING_PACKED);
  return { features: f, missing: null };
}
