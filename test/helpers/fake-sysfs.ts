// Test support: builds a fake /sys + /dev tree in a temp dir with the layout pci.ts, vfio and devbind
// read (plain files, dirs and symlinks). Nothing here talks to the kernel. Writes that devbind makes
// (driver_override, unbind, drivers_probe) land in ordinary files that tests can read back.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeNetdev {
  name: string;
  up?: boolean;
  /** Add an IPv4 route through it to the fake /proc/net/route. */
  routed?: boolean;
}

export interface FakePciDevice {
  bdf: string;
  vendor?: number;
  device?: number;
  subsystemVendor?: number;
  subsystemDevice?: number;
  classCode?: number;
  driver?: string | null;
  /** IOMMU group number; null = no group. */
  group?: number | null;
  numaNode?: number;
  netdevs?: FakeNetdev[];
  /** Put the netdevs under virtioN/net like virtio-pci does. */
  virtioChild?: boolean;
  /** sysfs vfio-dev/vfioN entry (and /dev/vfio/devices/vfioN when devCdev). */
  vfioDev?: string;
  /** Intel VT-d cap register for iommu/intel-iommu/cap. */
  intelCap?: bigint;
}

export interface FakeSysOptions {
  devices: FakePciDevice[];
  /** Loaded PCI drivers (dirs under bus/pci/drivers); drivers of the devices are added. */
  drivers?: string[];
  /** vfio's enable_unsafe_noiommu_mode; null = parameter file absent. Default 'N'. */
  noIommuParam?: 'Y' | 'N' | null;
  /** Groups VFIO made for no-IOMMU use (name file "vfio-noiommu", node /dev/vfio/noiommu-N). */
  noIommuGroups?: number[];
  /** Create <dev>/vfio with vfio, group nodes (default true). */
  devVfio?: boolean;
  /** Create <dev>/iommu and <dev>/vfio/devices/vfioN (default false). */
  devCdev?: boolean;
}

export interface FakeSys {
  root: string;
  sysfsRoot: string;
  devRoot: string;
  routePath: string;
  devDir(bdf: string): string;
  cleanup(): void;
}

const hex = (n: number, w: number) => '0x' + n.toString(16).padStart(w, '0');

export function makeFakeSys(o: FakeSysOptions): FakeSys {
  const root = mkdtempSync(join(tmpdir(), 'pktio-fakesys-'));
  const sys = join(root, 'sys');
  const dev = join(root, 'dev');
  const pciRoot = join(sys, 'devices/pci0000:00');
  const drivers = join(sys, 'bus/pci/drivers');
  mkdirSync(join(sys, 'bus/pci/devices'), { recursive: true });
  mkdirSync(join(sys, 'kernel/iommu_groups'), { recursive: true });
  writeFileSync(join(sys, 'bus/pci/drivers_probe'), '');
  const drvNames = new Set([...(o.drivers ?? []), ...o.devices.map((d) => d.driver).filter((d): d is string => !!d)]);
  for (const name of drvNames) {
    mkdirSync(join(drivers, name), { recursive: true });
    for (const f of ['bind', 'unbind', 'new_id']) writeFileSync(join(drivers, name, f), '');
  }
  if (o.noIommuParam !== null) {
    mkdirSync(join(sys, 'module/vfio/parameters'), { recursive: true });
    writeFileSync(join(sys, 'module/vfio/parameters/enable_unsafe_noiommu_mode'), (o.noIommuParam ?? 'N') + '\n');
  }
  const routes: string[] = [];
  const devVfio = o.devVfio ?? true;
  if (devVfio) {
    mkdirSync(join(dev, 'vfio'), { recursive: true });
    writeFileSync(join(dev, 'vfio/vfio'), '');
  }
  if (o.devCdev) {
    mkdirSync(join(dev, 'vfio/devices'), { recursive: true });
    writeFileSync(join(dev, 'iommu'), '');
  }
  const noiommu = new Set(o.noIommuGroups ?? []);
  for (const d of o.devices) {
    const dir = join(pciRoot, d.bdf);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'vendor'), hex(d.vendor ?? 0x8086, 4) + '\n');
    writeFileSync(join(dir, 'device'), hex(d.device ?? 0x10d3, 4) + '\n');
    writeFileSync(join(dir, 'subsystem_vendor'), hex(d.subsystemVendor ?? 0x8086, 4) + '\n');
    writeFileSync(join(dir, 'subsystem_device'), hex(d.subsystemDevice ?? 0, 4) + '\n');
    writeFileSync(join(dir, 'class'), hex(d.classCode ?? 0x020000, 6) + '\n');
    writeFileSync(join(dir, 'numa_node'), `${d.numaNode ?? -1}\n`);
    writeFileSync(join(dir, 'driver_override'), '(null)\n');
    symlinkSync(dir, join(sys, 'bus/pci/devices', d.bdf));
    if (d.driver) {
      symlinkSync(join(drivers, d.driver), join(dir, 'driver'));
      symlinkSync(dir, join(drivers, d.driver, d.bdf));
    }
    if (d.group !== undefined && d.group !== null) {
      const g = join(sys, 'kernel/iommu_groups', String(d.group));
      mkdirSync(join(g, 'devices'), { recursive: true });
      symlinkSync(dir, join(g, 'devices', d.bdf));
      symlinkSync(g, join(dir, 'iommu_group'));
      if (noiommu.has(d.group)) writeFileSync(join(g, 'name'), 'vfio-noiommu\n');
      if (devVfio) writeFileSync(join(dev, 'vfio', noiommu.has(d.group) ? `noiommu-${d.group}` : String(d.group)), '');
    }
    if (d.intelCap !== undefined) {
      mkdirSync(join(dir, 'iommu/intel-iommu'), { recursive: true });
      writeFileSync(join(dir, 'iommu/intel-iommu/cap'), d.intelCap.toString(16) + '\n');
    }
    if (d.vfioDev) {
      mkdirSync(join(dir, 'vfio-dev', d.vfioDev), { recursive: true });
      if (o.devCdev) writeFileSync(join(dev, 'vfio/devices', d.vfioDev), '');
    }
    for (const n of d.netdevs ?? []) {
      const nd = d.virtioChild ? join(dir, 'virtio0/net', n.name) : join(dir, 'net', n.name);
      mkdirSync(nd, { recursive: true });
      writeFileSync(join(nd, 'operstate'), (n.up ? 'up' : 'down') + '\n');
      writeFileSync(join(nd, 'flags'), (n.up ? '0x1003' : '0x1002') + '\n');
      if (n.routed) routes.push(`${n.name}\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0`);
    }
  }
  const routePath = join(root, 'route');
  writeFileSync(routePath, ['Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT', ...routes].join('\n') + '\n');
  return {
    root, sysfsRoot: sys, devRoot: dev, routePath,
    devDir: (bdf: string) => join(pciRoot, bdf),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
