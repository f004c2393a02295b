// Intel Ethernet controllers pktio drives: PCI device ID (vendor 0x8086) -> driver, family and queue counts.
// Device IDs from the datasheets' PCI configuration chapters (cross-checked with the Linux and DPDK ID tables).
// This table is plain data: the driver registry reads it to match PCI functions without loading any driver.

export type IntelDriver = 'net_e1000e' | 'net_igb' | 'net_ixgbe';
export type IntelFamily = '82574' | '82576' | 'i350' | 'i210' | '82599' | 'x540' | 'x550';

export interface IntelDevice {
  device: number;
  driver: IntelDriver;
  family: IntelFamily;
  /** marketing name, for logs and devInfo */
  name: string;
  /** RX/TX queue pairs pktio uses (RSS spreads over up to this many) */
  queues: number;
}

const d = (device: number, driver: IntelDriver, family: IntelFamily, name: string, queues: number): IntelDevice =>
  ({ device, driver, family, name, queues });

export const INTEL_DEVICES: readonly IntelDevice[] = [
  d(0x10d3, 'net_e1000e', '82574', '82574L', 2),
  d(0x10f6, 'net_e1000e', '82574', '82574LA', 2),
  d(0x10c9, 'net_igb', '82576', '82576', 8),
  d(0x10e6, 'net_igb', '82576', '82576 fiber', 8),
  d(0x10e7, 'net_igb', '82576', '82576 serdes', 8),
  d(0x10e8, 'net_igb', '82576', '82576 quad copper', 8),
  d(0x1526, 'net_igb', '82576', '82576 quad copper ET2', 8),
  d(0x150a, 'net_igb', '82576', '82576NS', 8),
  d(0x1518, 'net_igb', '82576', '82576NS serdes', 8),
  d(0x150d, 'net_igb', '82576', '82576 serdes quad', 8),
  d(0x1521, 'net_igb', 'i350', 'I350 copper', 8),
  d(0x1522, 'net_igb', 'i350', 'I350 fiber', 8),
  d(0x1523, 'net_igb', 'i350', 'I350 serdes', 8),
  d(0x1524, 'net_igb', 'i350', 'I350 SGMII', 8),
  d(0x1533, 'net_igb', 'i210', 'I210 copper', 4),
  d(0x1536, 'net_igb', 'i210', 'I210 fiber', 4),
  d(0x1537, 'net_igb', 'i210', 'I210 serdes', 4),
  d(0x1538, 'net_igb', 'i210', 'I210 SGMII', 4),
  d(0x157b, 'net_igb', 'i210', 'I210 copper (flashless)', 4),
  d(0x157c, 'net_igb', 'i210', 'I210 serdes (flashless)', 4),
  d(0x1539, 'net_igb', 'i210', 'I211 copper', 2),
  d(0x10fb, 'net_ixgbe', '82599', '82599ES SFP+', 16),
  d(0x10f7, 'net_ixgbe', '82599', '82599 KX4', 16),
  d(0x10f8, 'net_ixgbe', '82599', '82599 combined backplane', 16),
  d(0x10f9, 'net_ixgbe', '82599', '82599 CX4', 16),
  d(0x10fc, 'net_ixgbe', '82599', '82599 XAUI/BX4', 16),
  d(0x1514, 'net_ixgbe', '82599', '82599 KX4 mezzanine', 16),
  d(0x1517, 'net_ixgbe', '82599', '82599 KR', 16),
  d(0x151c, 'net_ixgbe', '82599', '82599 10GBASE-T', 16),
  d(0x1529, 'net_ixgbe', '82599', '82599 SFP+ FCoE', 16),
  d(0x154d, 'net_ixgbe', '82599', '82599 SFP+ SF2', 16),
  d(0x1557, 'net_ixgbe', '82599', '82599EN SFP+', 16),
  d(0x1528, 'net_ixgbe', 'x540', 'X540-T', 16),
  d(0x1560, 'net_ixgbe', 'x540', 'X540-T1', 16),
  d(0x1563, 'net_ixgbe', 'x550', 'X550-T', 16),
  d(0x15d1, 'net_ixgbe', 'x550', 'X550-T1', 16),
];

export function intelDevice(device: number): IntelDevice | undefined {
  return INTEL_DEVICES.find((x) => x.device === device);
}
