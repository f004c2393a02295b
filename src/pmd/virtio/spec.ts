// The virtio facts net_virtio uses, with the names of the VIRTIO 1.2 specification (sections in brackets) and of
// Linux's include/uapi/linux/virtio_{config,pci,ring,net}.h. Layouts are byte offsets; rings are little-endian.

// ---- PCI transport [4.1] -----------------------------------------------------------------------------------------
export const VIRTIO_PCI_VENDOR = 0x1af4;
/** modern virtio-net (0x1040 + device type 1) */
export const VIRTIO_PCI_DEVICE_NET_MODERN = 0x1041;
/** transitional virtio-net: legacy I/O BAR 0 plus, unless disable-modern, the modern capabilities */
export const VIRTIO_PCI_DEVICE_NET_TRANSITIONAL = 0x1000;

/** config space: status register bit "capabilities list", capability pointer, vendor-specific capability ID */
export const PCI_STATUS = 0x06;
export const PCI_STATUS_CAP_LIST = 0x10;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_CAP_ID_VNDR = 0x09;

/** struct virtio_pci_cap [4.1.4] */
export const CAP = {
  cap_vndr: 0, cap_next: 1, cap_len: 2, cfg_type: 3, bar: 4, id: 5, offset: 8, length: 12,
  /** struct virtio_pci_notify_cap: the multiplier after the common part */
  notify_off_multiplier: 16,
} as const;

/** cfg_type values */
export const VIRTIO_PCI_CAP_COMMON_CFG = 1;
export const VIRTIO_PCI_CAP_NOTIFY_CFG = 2;
export const VIRTIO_PCI_CAP_ISR_CFG = 3;
export const VIRTIO_PCI_CAP_DEVICE_CFG = 4;
export const VIRTIO_PCI_CAP_PCI_CFG = 5;

/** struct virtio_pci_common_cfg [4.1.4.3]: offset and width (bytes) of each field */
export const COMMON = {
  device_feature_select: 0x00, // le32
  device_feature: 0x04, // le32
  driver_feature_select: 0x08, // le32
  driver_feature: 0x0c, // le32
  config_msix_vector: 0x10, // le16
  num_queues: 0x12, // le16
  device_status: 0x14, // u8
  config_generation: 0x15, // u8
  queue_select: 0x16, // le16
  queue_size: 0x18, // le16
  queue_msix_vector: 0x1a, // le16
  queue_enable: 0x1c, // le16
  queue_notify_off: 0x1e, // le16
  queue_desc: 0x20, // le64 (two le32 halves)
  queue_driver: 0x28, // le64
  queue_device: 0x30, // le64
} as const;
export const COMMON_CFG_LEN = 0x38;
export const VIRTIO_MSI_NO_VECTOR = 0xffff;

/** device_status bits [2.1] */
export const STATUS_ACKNOWLEDGE = 1;
export const STATUS_DRIVER = 2;
export const STATUS_DRIVER_OK = 4;
export const STATUS_FEATURES_OK = 8;
export const STATUS_DEVICE_NEEDS_RESET = 0x40;
export const STATUS_FAILED = 0x80;

// ---- feature bits [6, 5.1.3] ------------------------------------------------------------------------------------
// Numbers (bit positions): a feature set is a 64-bit value kept as two u32 words (lo, hi) or a bigint off the
// data path. Names as in the specification; the table below names them in messages.
export const VIRTIO_NET_F_CSUM = 0;
export const VIRTIO_NET_F_GUEST_CSUM = 1;
export const VIRTIO_NET_F_CTRL_GUEST_OFFLOADS = 2;
export const VIRTIO_NET_F_MTU = 3;
export const VIRTIO_NET_F_MAC = 5;
export const VIRTIO_NET_F_GUEST_TSO4 = 7;
export const VIRTIO_NET_F_HOST_TSO4 = 11;
export const VIRTIO_NET_F_MRG_RXBUF = 15;
export const VIRTIO_NET_F_STATUS = 16;
export const VIRTIO_NET_F_CTRL_VQ = 17;
export const VIRTIO_NET_F_CTRL_RX = 18;
export const VIRTIO_NET_F_CTRL_VLAN = 19;
export const VIRTIO_NET_F_GUEST_ANNOUNCE = 21;
export const VIRTIO_NET_F_MQ = 22;
export const VIRTIO_NET_F_CTRL_MAC_ADDR = 23;
export const VIRTIO_F_INDIRECT_DESC = 28;
export const VIRTIO_F_EVENT_IDX = 29;
export const VIRTIO_F_VERSION_1 = 32;
export const VIRTIO_F_ACCESS_PLATFORM = 33;
export const VIRTIO_F_RING_PACKED = 34;
export const VIRTIO_F_IN_ORDER = 35;
export const VIRTIO_F_ORDER_PLATFORM = 36;
export const VIRTIO_F_NOTIFICATION_DATA = 38;
export const VIRTIO_NET_F_SPEED_DUPLEX = 63;

export const FEATURE_NAMES: ReadonlyMap<number, string> = new Map([
  [VIRTIO_NET_F_CSUM, 'VIRTIO_NET_F_CSUM'], [VIRTIO_NET_F_GUEST_CSUM, 'VIRTIO_NET_F_GUEST_CSUM'],
  [VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, 'VIRTIO_NET_F_CTRL_GUEST_OFFLOADS'], [VIRTIO_NET_F_MTU, 'VIRTIO_NET_F_MTU'],
  [VIRTIO_NET_F_MAC, 'VIRTIO_NET_F_MAC'], [VIRTIO_NET_F_GUEST_TSO4, 'VIRTIO_NET_F_GUEST_TSO4'],
  [VIRTIO_NET_F_HOST_TSO4, 'VIRTIO_NET_F_HOST_TSO4'], [VIRTIO_NET_F_MRG_RXBUF, 'VIRTIO_NET_F_MRG_RXBUF'],
  [VIRTIO_NET_F_STATUS, 'VIRTIO_NET_F_STATUS'], [VIRTIO_NET_F_CTRL_VQ, 'VIRTIO_NET_F_CTRL_VQ'],
  [VIRTIO_NET_F_CTRL_RX, 'VIRTIO_NET_F_CTRL_RX'], [VIRTIO_NET_F_CTRL_VLAN, 'VIRTIO_NET_F_CTRL_VLAN'],
  [VIRTIO_NET_F_GUEST_ANNOUNCE, 'VIRTIO_NET_F_GUEST_ANNOUNCE'], [VIRTIO_NET_F_MQ, 'VIRTIO_NET_F_MQ'],
  [VIRTIO_NET_F_CTRL_MAC_ADDR, 'VIRTIO_NET_F_CTRL_MAC_ADDR'], [VIRTIO_F_INDIRECT_DESC, 'VIRTIO_F_INDIRECT_DESC'],
  [VIRTIO_F_EVENT_IDX, 'VIRTIO_F_EVENT_IDX'], [VIRTIO_F_VERSION_1, 'VIRTIO_F_VERSION_1'],
  [VIRTIO_F_ACCESS_PLATFORM, 'VIRTIO_F_ACCESS_PLATFORM'], [VIRTIO_F_RING_PACKED, 'VIRTIO_F_RING_PACKED'],
  [VIRTIO_F_IN_ORDER, 'VIRTIO_F_IN_ORDER'], [VIRTIO_F_ORDER_PLATFORM, 'VIRTIO_F_ORDER_PLATFORM'],
  [VIRTIO_F_NOTIFICATION_DATA, 'VIRTIO_F_NOTIFICATION_DATA'], [VIRTIO_NET_F_SPEED_DUPLEX, 'VIRTIO_NET_F_SPEED_DUPLEX'],
]);

export function featureName(bit: number): string {
  return FEATURE_NAMES.get(bit) ?? `feature bit ${bit}`;
}

export function bit(n: number): bigint {
  return 1n << BigInt(n);
}

export function has(features: bigint, n: number): boolean {
  return (features & bit(n)) !== 0n;
}

/** Names of the features set in a feature word, for logs. */
export function featureList(features: bigint): string[] {
  const out: string[] = [];
  for (let i = 0; i < 64; i++) if (has(features, i)) out.push(featureName(i));
  return out;
}

// ---- virtio-net device configuration [5.1.4] ---------------------------------------------------------------------
export const NET_CFG = {
  mac: 0, // u8[6]
  status: 6, // le16
  max_virtqueue_pairs: 8, // le16
  mtu: 10, // le16
  speed: 12, // le32, Mbit/s, -1 unknown
  duplex: 16, // u8
} as const;
export const VIRTIO_NET_S_LINK_UP = 1;
export const VIRTIO_NET_S_ANNOUNCE = 2;

/** struct virtio_net_hdr_v1 [5.1.6]: 12 bytes with VERSION_1 (num_buffers is always there) */
export const NET_HDR = {
  flags: 0, // u8
  gso_type: 1, // u8
  hdr_len: 2, // le16
  gso_size: 4, // le16
  csum_start: 6, // le16
  csum_offset: 8, // le16
  num_buffers: 10, // le16
} as const;
export const NET_HDR_LEN = 12;
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
/** csum_offset of the checksum field from the L4 header start */
export const TCP_CSUM_OFFSET = 16;
export const UDP_CSUM_OFFSET = 6;

/** control virtqueue [5.1.6.5]: struct virtio_net_ctrl_hdr { u8 class; u8 command; }, data, then u8 ack */
export const VIRTIO_NET_CTRL_RX = 0;
export const VIRTIO_NET_CTRL_RX_PROMISC = 0;
export const VIRTIO_NET_CTRL_RX_ALLMULTI = 1;
export const VIRTIO_NET_CTRL_MAC = 1;
export const VIRTIO_NET_CTRL_MQ = 4;
export const VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET = 0;
export const VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN = 1;
export const VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX = 0x8000;
export const VIRTIO_NET_OK = 0;
export const VIRTIO_NET_ERR = 1;

/** virtqueue numbers of a virtio-net device [5.1.2] */
export const rxVq = (pair: number): number => 2 * pair;
export const txVq = (pair: number): number => 2 * pair + 1;

// ---- split virtqueues [2.7] --------------------------------------------------------------------------------------
/** struct virtq_desc: le64 addr; le32 len; le16 flags; le16 next (16 bytes) */
export const VIRTQ_DESC = { addr: 0, len: 8, flags: 12, next: 14, size: 16 } as const;
export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
/** struct virtq_avail: le16 flags; le16 idx; le16 ring[N]; le16 used_event (with EVENT_IDX) */
export const VIRTQ_AVAIL = { flags: 0, idx: 2, ring: 4 } as const;
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** struct virtq_used: le16 flags; le16 idx; struct virtq_used_elem { le32 id; le32 len } ring[N]; le16 avail_event */
export const VIRTQ_USED = { flags: 0, idx: 2, ring: 4, elem: 8 } as const;
export const VIRTQ_USED_F_NO_NOTIFY = 1;

/** Byte layout of a split ring of n entries: descriptor table, driver area (avail), device area (used). */
export function splitLayout(n: number): { desc: number; avail: number; used: number; bytes: number } {
  const avail = n * VIRTQ_DESC.size;
  const availEnd = avail + VIRTQ_AVAIL.ring + 2 * n + 2;
  const used = (availEnd + 63) & ~63; // its own cache lines (the spec asks 4-byte alignment)
  return { desc: 0, avail, used, bytes: used + VIRTQ_USED.ring + VIRTQ_USED.elem * n + 2 };
}

/**
 * vring_need_event [2.7.10]: must the other side be told, now that the index moved from old to newIdx, when it
 * asked to hear once the index passes eventIdx? All arithmetic modulo 2^16.
 */
export function needEvent(eventIdx: number, newIdx: number, old: number): boolean {
  return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - old) & 0xffff);
}

// ---- packed virtqueues [2.8] -------------------------------------------------------------------------------------
/** struct pvirtq_desc: le64 addr; le32 len; le16 id; le16 flags (16 bytes) */
export const PVIRTQ_DESC = { addr: 0, len: 8, id: 12, flags: 14, size: 16 } as const;
export const VIRTQ_DESC_F_AVAIL = 1 << 7;
export const VIRTQ_DESC_F_USED = 1 << 15;

/** A packed descriptor's AVAIL and USED bits as the driver makes it available in wrap `wrap` [2.8.1]. */
export function availBits(wrap: number): number {
  return wrap !== 0 ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
}

/** Has the device used a packed descriptor with flags f in the used wrap `wrap`? (AVAIL = USED = wrap) [2.8.1] */
export function isUsed(f: number, wrap: number): boolean {
  const a = (f >> 7) & 1;
  return a === f >> 15 && a === wrap;
}
/** struct pvirtq_event_suppress: le16 desc (off_wrap: offset 14:0, wrap counter 15); le16 flags */
export const PVIRTQ_EVENT = { off_wrap: 0, flags: 2, size: 4 } as const;
export const RING_EVENT_FLAGS_ENABLE = 0;
export const RING_EVENT_FLAGS_DISABLE = 1;
export const RING_EVENT_FLAGS_DESC = 2;
export const RING_EVENT_WRAP_SHIFT = 15;

/** Byte layout of a packed ring of n descriptors: descriptors, driver and device event suppression. */
export function packedLayout(n: number): { desc: number; driver: number; device: number; bytes: number } {
  const driver = (n * PVIRTQ_DESC.size + 63) & ~63;
  return { desc: 0, driver, device: driver + 64, bytes: driver + 64 + PVIRTQ_EVENT.size };
}

/** Either layout: byte offsets of the driver area (split: avail ring) and device area (split: used ring), and size. */
export function ringAreas(packed: boolean, n: number): { driver: number; device: number; bytes: number } {
  if (packed) return packedLayout(n);
  const l = splitLayout(n);
  return { driver: l.avail, device: l.used, bytes: l.bytes };
}
