// VFIO without VFIO: uAPI constants, and every error path that sysfs and /dev decide, against fake
// trees in a temp dir (and read-only looks at this machine's sysfs). The guest checks are in test/vm.
import t, { type Test } from 'tap';
import { existsSync } from 'node:fs';
import * as u from '../src/vfio/uapi.js';
import { Vfio, VfioError, iommuAddressWidth, planDevice, vfioIovaPlan, type VfioErrorCode } from '../src/vfio/index.js';
import { makeFakeSys, type FakeSysOptions } from './helpers/fake-sysfs.js';

const quiet = { warn: () => {}, info: () => {}, debug: () => {} };

function fake(t: Test, o: FakeSysOptions) {
  const f = makeFakeSys(o);
  t.teardown(f.cleanup);
  return f;
}

function throwsCode(t: Test, fn: () => unknown, code: VfioErrorCode, ...patterns: (string | RegExp)[]): void {
  try {
    fn();
    t.fail(`expected VfioError ${code}, got no error`);
  } catch (e) {
    if (!(e instanceof VfioError)) {
      t.fail(`expected VfioError ${code}, got ${String(e)}`);
      return;
    }
    t.equal(e.code, code, `code ${code}: ${e.message}`);
    for (const p of patterns) {
      if (typeof p === 'string') t.ok(e.message.includes(p), `message mentions '${p}'`);
      else t.match(e.message, p);
    }
  }
}

t.test('ioctl numbers and struct sizes match linux/vfio.h and linux/iommufd.h', async (t) => {
  t.equal(u.VFIO_GET_API_VERSION, 0x3b64);
  t.equal(u.VFIO_CHECK_EXTENSION, 0x3b65);
  t.equal(u.VFIO_SET_IOMMU, 0x3b66);
  t.equal(u.VFIO_GROUP_GET_STATUS, 0x3b67);
  t.equal(u.VFIO_GROUP_SET_CONTAINER, 0x3b68);
  t.equal(u.VFIO_GROUP_GET_DEVICE_FD, 0x3b6a);
  t.equal(u.VFIO_DEVICE_GET_INFO, 0x3b6b);
  t.equal(u.VFIO_DEVICE_GET_REGION_INFO, 0x3b6c);
  t.equal(u.VFIO_DEVICE_GET_IRQ_INFO, 0x3b6d);
  t.equal(u.VFIO_DEVICE_RESET, 0x3b6f);
  t.equal(u.VFIO_IOMMU_MAP_DMA, 0x3b71);
  t.equal(u.VFIO_IOMMU_UNMAP_DMA, 0x3b72);
  t.equal(u.VFIO_DEVICE_BIND_IOMMUFD, 0x3b76);
  t.equal(u.VFIO_DEVICE_ATTACH_IOMMUFD_PT, 0x3b77);
  t.equal(u.VFIO_DEVICE_DETACH_IOMMUFD_PT, 0x3b78);
  t.equal(u.IOMMU_DESTROY, 0x3b80);
  t.equal(u.IOMMU_IOAS_ALLOC, 0x3b81);
  t.equal(u.IOMMU_IOAS_MAP, 0x3b85);
  t.equal(u.IOMMU_IOAS_UNMAP, 0x3b86);
  t.equal(u.VFIO_TYPE1_IOMMU, 1);
  t.equal(u.VFIO_TYPE1v2_IOMMU, 3);
  t.equal(u.VFIO_NOIOMMU_IOMMU, 8);
  t.equal(u.VFIO_PCI_CONFIG_REGION_INDEX, 7);
  t.equal(u.VFIO_GROUP_STATUS_SIZE, 8);
  t.equal(u.VFIO_DEVICE_INFO_SIZE, 24);
  t.equal(u.VFIO_REGION_INFO_SIZE, 32);
  t.equal(u.VFIO_IRQ_INFO_SIZE, 16);
  t.equal(u.VFIO_DMA_MAP_SIZE, 32);
  t.equal(u.VFIO_DMA_UNMAP_SIZE, 24);
  t.equal(u.VFIO_DEVICE_BIND_IOMMUFD_SIZE, 16);
  t.equal(u.VFIO_DEVICE_ATTACH_IOMMUFD_PT_SIZE, 12);
  t.equal(u.IOMMU_IOAS_ALLOC_SIZE, 12);
  t.equal(u.IOMMU_IOAS_MAP_SIZE, 40);
  t.equal(u.IOMMU_IOAS_UNMAP_SIZE, 24);
  const b = u.sizedStruct(32);
  t.equal(b.readUInt32LE(0), 32, 'argsz/size is the first u32');
  t.equal(u.PCI_COMMAND, 4);
  t.equal(u.PCI_COMMAND_MASTER, 4);
});

t.test('bad PCI address', async (t) => {
  const f = fake(t, { devices: [] });
  const v = new Vfio({ sysfsRoot: f.sysfsRoot, devRoot: f.devRoot, log: quiet });
  for (const bad of ['0000:00:03', 'eth0', '0000:00:20.0', '00:03.8', '']) {
    throwsCode(t, () => v.attach(bad), 'BAD_ADDRESS', `bad PCI address '${bad}'`, 'expected DDDD:BB:DD.F, e.g. 0000:00:03.0');
  }
});

t.test('no such device', async (t) => {
  const f = fake(t, { devices: [] });
  throwsCode(t, () => new Vfio({ sysfsRoot: f.sysfsRoot, devRoot: f.devRoot, log: quiet }).attach('00:09.0'),
    'NO_DEVICE', 'no PCI device 0000:00:09.0', 'devbind --status');
});

t.test('no /dev/vfio: says to load vfio-pci', async (t) => {
  const f = fake(t, { devices: [{ bdf: '0000:00:03.0', driver: 'e1000e', group: 1 }], devVfio: false });
  throwsCode(t, () => new Vfio({ sysfsRoot: f.sysfsRoot, devRoot: f.devRoot, log: quiet }).attach('0000:00:03.0'),
    'NO_VFIO', 'modprobe vfio-pci', 'devbind --bind vfio-pci 0000:00:03.0');
});

t.test('device bound to a kernel driver: names it and the devbind command', async (t) => {
  const f = fake(t, { devices: [{ bdf: '0000:00:03.0', driver: 'e1000e', group: 1, netdevs: [{ name: 'eth1' }] }] });
  throwsCode(t, () => new Vfio({ sysfsRoot: f.sysfsRoot, devRoot: f.devRoot, log: quiet }).attach('00:03.0'),
    'BOUND_TO_KERNEL', "kernel driver 'e1000e'", 'eth1', 'devbind --bind vfio-pci 0000:00:03.0');
});

t.test('device with no driver', async (t) => {
  const f = fake(t, { devices: [{ bdf: '0000:00:03.0', driver: null, group: 1 }] });
  throwsCode(t, () => new Vfio({ sysfsRoot: f.sysfsRoot, devRoot: f.devRoot, log: quiet }).attach('0000:00:03.0'),
    'NOT_BOUND', 'not bound to any driver', 'modprobe vfio-pci', 'devbind --bind vfio-pci 0000:00:03.0');
});

t.test('group not viable: names the other devices and their drivers', async (t) => {
  const f = fake(t, {
    devices: [
      { bdf: '0000:00:03.0', driver: 'vfio-pci', group: 5 },
      { bdf: '0000:00:03.1', driver: 'e1000e', group: 5 },
      { bdf: '0000:00:03.2', driver: null, group: 5 },
      { bdf: '0000:00:1c.0', driver: 'pcieport', group: 5, classCode: 0x060400 },
    ],
  });
  throwsCode(t, () => new Vfio({ sysfsRoot: f.sysfsRoot, devRoot: f.devRoot, log: quiet }).attach('0000:00:03.0'),
    'NOT_VIABLE', 'IOMMU group 5', '0000:00:03.1 (driver e1000e)', 'devbind --bind vfio-pci 0000:00:03.1');
  try {
    planDevice('0000:00:03.0', f);
  } catch (e) {
    t.notOk((e as Error).message.includes('0000:00:03.2'), 'driverless members are fine');
    t.notOk((e as Error).message.includes('0000:00:1c.0'), 'pcieport members are fine');
  }
});

t.test('no-IOMMU group without the opt-in: names --vfio-noiommu', async (t) => {
  const f = fake(t, { devices: [{ bdf: '0000:00:03.0', driver: 'vfio-pci', group: 0 }], noIommuGroups: [0], noIommuParam: 'Y' });
  const o = { sysfsRoot: f.sysfsRoot, devRoot: f.devRoot, log: quiet };
  throwsCode(t, () => new Vfio(o).attach('0000:00:03.0'), 'NOIOMMU_NOT_ALLOWED', '--vfio-noiommu', 'allowNoIommu', 'noiommu-0');
  throwsCode(t, () => vfioIovaPlan(['0000:00:03.0'], o), 'NOIOMMU_NOT_ALLOWED', '--vfio-noiommu');
  const plan = vfioIovaPlan(['0000:00:03.0'], { ...o, allowNoIommu: true });
  t.same(plan, { iova: 'pa', vfioDevices: ['0000:00:03.0'], noIommuDevices: ['0000:00:03.0'], iovaBits: null }, 'opt-in: IOVA must be PA');
  const p = planDevice('0000:00:03.0', f);
  t.equal(p.noIommu, true);
  t.ok(p.groupNode.endsWith('/vfio/noiommu-0'));
  throwsCode(t, () => new Vfio({ ...o, allowNoIommu: true, flow: 'cdev' }).attach('0000:00:03.0'), 'NO_CDEV', 'no-IOMMU', '--vfio-flow legacy');
});

t.test('no-IOMMU needed but not enabled: names the modprobe and echo fixes', async (t) => {
  const f = fake(t, { devices: [{ bdf: '0000:00:03.0', driver: null, group: null }], noIommuParam: 'N', drivers: ['vfio-pci'] });
  throwsCode(t, () => new Vfio({ sysfsRoot: f.sysfsRoot, devRoot: f.devRoot, allowNoIommu: true, log: quiet }).attach('0000:00:03.0'),
    'NOIOMMU_DISABLED', 'modprobe vfio enable_unsafe_noiommu_mode=1', 'echo Y > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode',
    'intel_iommu=on');
  // still on the kernel driver: the kernel-driver error comes first and carries the no-IOMMU note
  const g = fake(t, { devices: [{ bdf: '0000:00:03.0', driver: 'e1000e', group: null }], noIommuParam: 'N' });
  throwsCode(t, () => new Vfio({ sysfsRoot: g.sysfsRoot, devRoot: g.devRoot, log: quiet }).attach('0000:00:03.0'),
    'BOUND_TO_KERNEL', 'enable_unsafe_noiommu_mode=1');
  // vfio without no-IOMMU support at all
  const h = fake(t, { devices: [{ bdf: '0000:00:03.0', driver: null, group: null }], noIommuParam: null });
  throwsCode(t, () => new Vfio({ sysfsRoot: h.sysfsRoot, devRoot: h.devRoot, log: quiet }).attach('0000:00:03.0'),
    'NOIOMMU_DISABLED', 'modprobe vfio enable_unsafe_noiommu_mode=1');
});

t.test('flow selection and the cdev flow without its nodes', async (t) => {
  const f = fake(t, { devices: [{ bdf: '0000:00:03.0', driver: 'vfio-pci', group: 1, vfioDev: 'vfio0' }] });
  const o = { sysfsRoot: f.sysfsRoot, devRoot: f.devRoot, log: quiet };
  t.equal(planDevice('0000:00:03.0', f).cdevNode, null, 'no /dev/vfio/devices node');
  throwsCode(t, () => new Vfio({ ...o, flow: 'cdev' }).attach('0000:00:03.0'), 'NO_CDEV', 'modprobe iommufd', 'CONFIG_VFIO_DEVICE_CDEV', '--vfio-flow legacy');
  throwsCode(t, () => new Vfio({ ...o, flow: 'bogus' as 'auto' }), 'BAD_ARGUMENT', 'auto, legacy or cdev');
  const c = fake(t, { devices: [{ bdf: '0000:00:03.0', driver: 'vfio-pci', group: 1, vfioDev: 'vfio0' }], devCdev: true });
  t.ok(planDevice('0000:00:03.0', c).cdevNode?.endsWith('/vfio/devices/vfio0'), 'cdev node found through sysfs vfio-dev');
});

t.test('a node that is not VFIO: the ioctl error is reported with errno (SYSCALL)', async (t) => {
  // the fake /dev/vfio/1 is a regular file: open works, the first ioctl fails with ENOTTY
  const f = fake(t, { devices: [{ bdf: '0000:00:03.0', driver: 'vfio-pci', group: 1 }] });
  const v = new Vfio({ sysfsRoot: f.sysfsRoot, devRoot: f.devRoot, log: quiet, flow: 'legacy' });
  throwsCode(t, () => v.attach('0000:00:03.0'), 'SYSCALL', 'VFIO_GROUP_GET_STATUS', /errno 25/);
  t.equal(v.iommuType, null);
  t.equal(v.requiresPhysicalIova, false);
  v.close();
  throwsCode(t, () => v.attach('0000:00:03.0'), 'CLOSED');
});

t.test('mapSegments validates and defers until a device is attached', async (t) => {
  const f = fake(t, { devices: [] });
  const v = new Vfio({ sysfsRoot: f.sysfsRoot, devRoot: f.devRoot, log: quiet });
  throwsCode(t, () => v.mapSegments([{ va: 0x1000n, iova: 0x1000n, len: 100 }]), 'BAD_ARGUMENT', '4 KiB aligned');
  throwsCode(t, () => v.mapSegments([{ va: 0x1001n, iova: 0x1000n, len: 4096 }]), 'BAD_ARGUMENT');
  throwsCode(t, () => v.mapSegments([{ va: 4096 as unknown as bigint, iova: 0x1000n, len: 4096 }]), 'BAD_ARGUMENT', 'BigInt');
  v.mapSegments([{ va: 0x200000n, iova: 0x200000n, len: 0x200000 }]);
  t.pass('accepted before any attach (nothing to map into yet)');
  v.close();
});

t.test('IOVA plan and IOMMU address width', async (t) => {
  const f = fake(t, {
    devices: [
      { bdf: '0000:00:03.0', driver: 'vfio-pci', group: 1, intelCap: 0xd2008c22260286n },
      { bdf: '0000:00:04.0', driver: 'e1000e', group: 2 },
    ],
  });
  t.equal(iommuAddressWidth('0000:00:03.0', f.sysfsRoot), 39, "QEMU's intel-iommu default (aw-bits=39)");
  t.equal(iommuAddressWidth('0000:00:04.0', f.sysfsRoot), null);
  t.same(vfioIovaPlan(['00:03.0', '00:04.0'], f), { iova: 'va', vfioDevices: ['0000:00:03.0'], noIommuDevices: [], iovaBits: 39 });
  t.same(vfioIovaPlan(['00:04.0'], f).iova, null, 'no VFIO device: no constraint');
  throwsCode(t, () => vfioIovaPlan(['0000:00:4.x'], f), 'BAD_ADDRESS');
});

t.test("this machine's sysfs, read only", { skip: existsSync('/sys/bus/pci/devices') ? false : 'no PCI sysfs here' }, async (t) => {
  const plan = vfioIovaPlan(['0000:00:03.0']);
  t.equal(plan.iova, null, 'the host NIC is not a VFIO device');
  // planDevice only reads sysfs: the host NIC gives a clear error, and nothing is opened or written
  try {
    planDevice('0000:00:03.0', { sysfsRoot: '/sys', devRoot: '/dev' });
    t.fail('expected an error for the host NIC');
  } catch (e) {
    t.ok(e instanceof VfioError && ['NO_VFIO', 'BOUND_TO_KERNEL', 'NO_DEVICE'].includes(e.code), (e as Error).message);
  }
});
