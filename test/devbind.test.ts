// devbind against fake sysfs trees: bind/unbind become writes to plain files in a temp dir.
// The real sysfs is only read (--status through the CLI); nothing here binds a real device.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { bindDevice, devbind, statusReport, unbindDevice } from '../bin/devbind.js';
import { makeFakeSys, type FakeSysOptions } from './helpers/fake-sysfs.js';

function fake(t: Test, o: FakeSysOptions) {
  const f = makeFakeSys(o);
  t.teardown(f.cleanup);
  return f;
}

function run(argv: string[], o: object) {
  const out: string[] = [];
  const err: string[] = [];
  const rc = devbind(argv, { ...o, out: (s) => out.push(s), err: (s) => err.push(s) });
  return { rc, out: out.join('\n'), err: err.join('\n') };
}

const read = (p: string) => readFileSync(p, 'utf8');

const tree: FakeSysOptions = {
  devices: [
    { bdf: '0000:00:03.0', driver: 'e1000e', group: 3, netdevs: [{ name: 'eth1', up: true, routed: true }] },
    { bdf: '0000:00:04.0', driver: 'e1000e', group: 4, netdevs: [{ name: 'eth2', up: false }] },
    { bdf: '0000:00:05.0', driver: 'vfio-pci', group: 5, vfioDev: 'vfio0' },
    { bdf: '0000:00:06.0', driver: null, group: 6 },
    { bdf: '0000:00:1f.2', classCode: 0x010601, driver: 'ahci', group: 7 },
  ],
  drivers: ['vfio-pci'],
};

t.test('--status groups network devices and marks active ones', async (t) => {
  const f = fake(t, tree);
  const r = run(['--status'], { sysfsRoot: f.sysfsRoot, routePath: f.routePath });
  t.equal(r.rc, 0);
  const [user, kernel, none] = r.out.split('\n\n');
  t.match(user, /userspace driver \(vfio-pci\)[\s\S]*0000:00:05\.0 '8086:10d3' drv=vfio-pci .*iommu_group=5 cdev=vfio0/);
  t.match(kernel, /kernel driver[\s\S]*0000:00:03\.0 '8086:10d3' if=eth1 drv=e1000e .*\*Active\*/);
  t.match(kernel, /0000:00:04\.0 '8086:10d3' if=eth2 drv=e1000e/);
  t.notMatch(kernel, /eth2.*Active/);
  t.match(none, /no driver[\s\S]*0000:00:06\.0/);
  t.notMatch(r.out, /1f\.2/, 'storage controller not listed');
  t.equal(statusReport({ sysfsRoot: f.sysfsRoot, routePath: f.routePath }) + '', r.out);
});

t.test('refuses an active device unless --force, and writes nothing', async (t) => {
  const f = fake(t, tree);
  const o = { sysfsRoot: f.sysfsRoot, routePath: f.routePath, verify: false };
  const dir = f.devDir('0000:00:03.0');
  for (const argv of [['--bind', 'vfio-pci', '0000:00:03.0'], ['--bind', 'vfio-pci', 'eth1'], ['--unbind', '00:03.0']]) {
    const r = run(argv, o);
    t.equal(r.rc, 1, argv.join(' '));
    t.match(r.err, /refusing to .*0000:00:03\.0: its interface eth1 is up and has routes.*ip link set eth1 down.*--force/);
  }
  t.equal(read(join(dir, 'driver_override')), '(null)\n', 'driver_override untouched');
  t.equal(read(join(f.sysfsRoot, 'bus/pci/drivers/e1000e/unbind')), '', 'no unbind written');
  t.equal(read(join(f.sysfsRoot, 'bus/pci/drivers_probe')), '', 'no probe written');
  const r = run(['--force', '--bind', 'vfio-pci', '0000:00:03.0'], o);
  t.equal(r.rc, 0, r.err);
  t.equal(read(join(dir, 'driver_override')), 'vfio-pci');
  t.equal(read(join(f.sysfsRoot, 'bus/pci/drivers/e1000e/unbind')), '0000:00:03.0');
  t.equal(read(join(f.sysfsRoot, 'bus/pci/drivers_probe')), '0000:00:03.0');
});

t.test('bind an inactive device: driver_override + unbind + drivers_probe', async (t) => {
  const f = fake(t, tree);
  const o = { sysfsRoot: f.sysfsRoot, routePath: f.routePath, verify: false };
  t.equal(bindDevice('00:04.0', 'vfio-pci', o), '0000:00:04.0 bound to vfio-pci (was e1000e)');
  t.equal(read(join(f.devDir('0000:00:04.0'), 'driver_override')), 'vfio-pci');
  t.equal(read(join(f.sysfsRoot, 'bus/pci/drivers/e1000e/unbind')), '0000:00:04.0');
  t.equal(read(join(f.sysfsRoot, 'bus/pci/drivers_probe')), '0000:00:04.0');
  t.equal(bindDevice('00:05.0', 'vfio-pci', o), '0000:00:05.0 already bound to vfio-pci');
  t.equal(bindDevice('00:06.0', 'vfio-pci', o), '0000:00:06.0 bound to vfio-pci', 'driverless: no unbind');
  // with verification the fake tree's unchanged driver link is reported
  const r = run(['--bind', 'vfio-pci', '0000:00:06.0'], { sysfsRoot: f.sysfsRoot, routePath: f.routePath });
  t.equal(r.rc, 1);
  t.match(r.err, /did not bind to vfio-pci \(driver now: none\); see dmesg/);
});

t.test('unbind clears driver_override', async (t) => {
  const f = fake(t, tree);
  const o = { sysfsRoot: f.sysfsRoot, routePath: f.routePath };
  t.equal(unbindDevice('0000:00:05.0', o), '0000:00:05.0 unbound from vfio-pci');
  t.equal(read(join(f.sysfsRoot, 'bus/pci/drivers/vfio-pci/unbind')), '0000:00:05.0');
  t.equal(read(join(f.devDir('0000:00:05.0'), 'driver_override')), '\n');
  t.equal(unbindDevice('0000:00:06.0', o), '0000:00:06.0 is not bound to any driver');
});

t.test('vfio-pci not loaded, no IOMMU group, bad input', async (t) => {
  const f = fake(t, { devices: [{ bdf: '0000:00:03.0', driver: 'e1000e', group: 3 }] });
  const o = { sysfsRoot: f.sysfsRoot, routePath: f.routePath, verify: false };
  let r = run(['--bind', 'vfio-pci', '0000:00:03.0'], o);
  t.equal(r.rc, 1);
  t.match(r.err, /driver vfio-pci is not loaded .*modprobe vfio-pci/);
  const g = fake(t, { devices: [{ bdf: '0000:00:03.0', driver: 'e1000e', group: null }], drivers: ['vfio-pci'], noIommuParam: 'N' });
  r = run(['--bind', 'vfio-pci', '0000:00:03.0'], { sysfsRoot: g.sysfsRoot, routePath: g.routePath, verify: false });
  t.equal(r.rc, 1);
  t.match(r.err, /no IOMMU group.*intel_iommu=on.*modprobe vfio enable_unsafe_noiommu_mode=1/);
  r = run(['--bind', 'vfio-pci', '0000:00:3.9'], o);
  t.equal(r.rc, 1);
  t.match(r.err, /bad PCI address '0000:00:3\.9': expected DDDD:BB:DD\.F, e\.g\. 0000:00:03\.0/);
  r = run(['--unbind', '0000:00:09.0'], o);
  t.match(r.err, /no PCI device 0000:00:09\.0/);
  r = run(['--unbind', 'nosuchif'], o);
  t.match(r.err, /or the name of a kernel network interface/);
  r = run([], o);
  t.equal(r.rc, 1);
  t.match(r.err, /nothing to do[\s\S]*Usage: pktio-devbind/);
  r = run(['--bind'], o);
  t.match(r.err, /--bind needs a driver name/);
  r = run(['--bind', 'vfio-pci'], o);
  t.match(r.err, /needs at least one device/);
  r = run(['--status', '--unbind', '00:03.0'], o);
  t.match(r.err, /only one of/);
  r = run(['--frobnicate'], o);
  t.match(r.err, /unknown option '--frobnicate'/);
  r = run(['--help'], o);
  t.equal(r.rc, 0);
  t.match(r.out, /Usage: pktio-devbind/);
});

t.test('the CLI runs through tsx (read-only --status of this machine, exit codes)', async (t) => {
  const tsx = join(process.cwd(), 'node_modules/.bin/tsx');
  let r = spawnSync(tsx, ['bin/devbind.ts', '--status'], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /Network devices using a kernel driver/);
  r = spawnSync(tsx, ['bin/devbind.ts', '--bogus'], { encoding: 'utf8' });
  t.equal(r.status, 1);
  t.match(r.stderr, /unknown option '--bogus'/);
});
