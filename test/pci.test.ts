// PCI scan (fake sysfs trees and, read-only, this machine's), address parsing, -a/-b filters, PMD matching.
import t from 'tap';
import { existsSync } from 'node:fs';
import {
  PciError, filterDevices, isActive, isNetworkDevice, matchPmds, parsePciAddress, readPciDevice, routedInterfaces, scanPci,
} from '../src/eal/pci.js';
import { makeFakeSys } from './helpers/fake-sysfs.js';

t.test('parsePciAddress', async (t) => {
  t.equal(parsePciAddress('0000:00:03.0'), '0000:00:03.0');
  t.equal(parsePciAddress('00:03.0'), '0000:00:03.0');
  t.equal(parsePciAddress('0000:AF:1F.7'), '0000:af:1f.7');
  t.equal(parsePciAddress(' 1:02:0a.1 '), '0001:02:0a.1');
  for (const bad of ['', 'eth0', '00:03', '0000:00:03.8', '0000:00:20.0', '00000:00:03.0', '0000:000:03.0', '0000-00-03.0']) {
    t.throws(() => parsePciAddress(bad), { name: 'PciError', message: `bad PCI address '${bad}': expected DDDD:BB:DD.F, e.g. 0000:00:03.0` });
  }
  t.ok(new PciError('x') instanceof Error);
});

t.test('scan of a fake sysfs tree', async (t) => {
  const f = makeFakeSys({
    devices: [
      { bdf: '0000:00:03.0', driver: 'e1000e', group: 3, numaNode: 0, subsystemDevice: 0x1234, netdevs: [{ name: 'eth1', up: true, routed: true }] },
      { bdf: '0000:00:04.0', driver: 'vfio-pci', group: 4, vfioDev: 'vfio0' },
      { bdf: '0000:00:05.0', vendor: 0x1af4, device: 0x1041, driver: 'virtio-pci', virtioChild: true, netdevs: [{ name: 'eth0', up: true }] },
      { bdf: '0000:00:1f.2', classCode: 0x010601, driver: 'ahci', group: 7 },
    ],
  });
  t.teardown(f.cleanup);
  const devs = scanPci({ sysfsRoot: f.sysfsRoot, routePath: f.routePath });
  t.same(devs.map((d) => d.bdf), ['0000:00:03.0', '0000:00:04.0', '0000:00:05.0', '0000:00:1f.2']);
  const [a, b, c, d] = devs;
  t.match(a, {
    vendor: 0x8086, device: 0x10d3, subsystemVendor: 0x8086, subsystemDevice: 0x1234, classCode: 0x020000, driver: 'e1000e',
    driverOverride: null, iommuGroup: 3, numaNode: 0, vfioDev: null,
    netdevs: [{ name: 'eth1', up: true, operstate: 'up', routes: true }],
  });
  t.ok(isActive(a), 'up + routed = active');
  t.match(b, { driver: 'vfio-pci', iommuGroup: 4, numaNode: -1, netdevs: [], vfioDev: 'vfio0' });
  t.match(c, { vendor: 0x1af4, netdevs: [{ name: 'eth0', up: true, routes: false }] }, 'virtio netdev under virtioN/net');
  t.notOk(isActive(c), 'up without routes is not active');
  t.notOk(isNetworkDevice(d));
  t.same(readPciDevice('00:04.0', { sysfsRoot: f.sysfsRoot }).bdf, '0000:00:04.0');
  t.throws(() => readPciDevice('00:09.0', { sysfsRoot: f.sysfsRoot }), /no PCI device 0000:00:09.0 .*devbind --status/);
  t.throws(() => readPciDevice('zz', { sysfsRoot: f.sysfsRoot }), /bad PCI address 'zz'/);
  t.same(scanPci({ sysfsRoot: '/nonexistent' }), [], 'missing tree: no devices');
});

t.test('routes from /proc/net/route', async (t) => {
  const f = makeFakeSys({ devices: [{ bdf: '0000:00:03.0', netdevs: [{ name: 'ens3', up: true, routed: true }] }] });
  t.teardown(f.cleanup);
  t.same([...routedInterfaces(f.routePath)], ['ens3']);
  t.same([...routedInterfaces('/nonexistent')], []);
});

t.test('allow / block filters', async (t) => {
  const f = makeFakeSys({ devices: [{ bdf: '0000:00:03.0' }, { bdf: '0000:00:04.0' }, { bdf: '0000:00:05.0' }] });
  t.teardown(f.cleanup);
  const devs = scanPci({ sysfsRoot: f.sysfsRoot });
  t.same(filterDevices(devs).devices.length, 3, 'no lists: every device');
  const a = filterDevices(devs, ['00:04.0', '0000:00:09.0']);
  t.same(a.devices.map((d) => d.bdf), ['0000:00:04.0']);
  t.same(a.notFound, ['0000:00:09.0']);
  t.same(filterDevices(devs, [], ['00:03.0']).devices.map((d) => d.bdf), ['0000:00:04.0', '0000:00:05.0']);
  t.throws(() => filterDevices(devs, ['00:03.0'], ['00:04.0']), /cannot be used together/);
  t.throws(() => filterDevices(devs, ['x']), /bad PCI address 'x'/);
});

t.test('PMD matching', async (t) => {
  const f = makeFakeSys({
    devices: [
      { bdf: '0000:00:03.0', device: 0x10d3 },
      { bdf: '0000:00:04.0', device: 0x10c9 },
      { bdf: '0000:00:05.0', vendor: 0x1af4, device: 0x1041 },
      { bdf: '0000:00:06.0', vendor: 0x15b3, device: 0x1017 },
    ],
  });
  t.teardown(f.cleanup);
  const table = [
    { vendor: 0x8086, device: 0x10d3, driver: 'net_e1000e' },
    { vendor: 0x8086, device: 0x10c9, driver: 'net_igb' },
    { vendor: 0x1af4, device: null, driver: 'net_virtio' },
  ];
  const m = matchPmds(scanPci({ sysfsRoot: f.sysfsRoot }), table);
  t.same(m.map((x) => [x.device.bdf, x.driver]), [
    ['0000:00:03.0', 'net_e1000e'], ['0000:00:04.0', 'net_igb'], ['0000:00:05.0', 'net_virtio'],
  ]);
});

t.test("this machine's PCI bus, read only", { skip: existsSync('/sys/bus/pci/devices') ? false : 'no PCI sysfs here' }, async (t) => {
  const devs = scanPci();
  t.ok(devs.length > 0, `${devs.length} PCI functions`);
  for (const d of devs) t.match(d.bdf, /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/);
  const nics = devs.filter(isNetworkDevice);
  t.ok(nics.length > 0, `network devices: ${nics.map((n) => `${n.bdf} ${n.driver} ${n.netdevs.map((x) => x.name)}`).join('; ')}`);
  const withIf = nics.filter((n) => n.netdevs.length > 0);
  t.ok(withIf.length > 0, 'a kernel interface is found for a NIC (virtio puts it under virtioN/net)');
  const virtio = nics.find((n) => n.vendor === 0x1af4);
  if (virtio) t.ok(virtio.driver !== null, `virtio NIC ${virtio.bdf} is bound to ${virtio.driver}`);
});
