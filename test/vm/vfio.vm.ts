// VFIO API walk in a guest, every flow: attach, DMA map, BAR0 (STATUS, MAC from RAL0/RAH0), bus mastering read
// back, reset, refusals (no-IOMMU without the opt-in, a device on a kernel driver, no-IOMMU through a cdev).
import t from 'tap';
import * as path from 'node:path';
import { rigMissing, runInGuest, guestDir, showGuestOnFailure, type VmMode } from './vm.js';

const missing = rigMissing();
const cases: Array<{ mode: VmMode; name: string; flags: string }> = [
  { mode: 'type1', name: 'legacy type1', flags: '--flow legacy --kernel-bdf 0000:00:05.0' },
  { mode: 'type1', name: 'legacy with /dev/iommu as container', flags: '--flow legacy --iommufd-compat' },
  { mode: 'cdev', name: 'cdev + iommufd', flags: '--flow cdev' },
  { mode: 'noiommu', name: 'no-IOMMU group', flags: '--noiommu --flow legacy' },
  { mode: 'noiommu', name: 'no-IOMMU group with /dev/iommu as container', flags: '--noiommu --flow legacy --iommufd-compat' },
  { mode: 'noiommu', name: 'no-IOMMU has no cdev on 6.12', flags: '--noiommu --flow cdev --expect-error NO_CDEV' },
];
// one guest per mode, every case of that mode in it
for (const mode of ['type1', 'cdev', 'noiommu'] as VmMode[]) {
  const mine = cases.filter((c) => c.mode === mode);
  t.test(`VFIO ${mode}`, { skip: missing ?? false, timeout: 300000 }, async (t) => {
    // compiled with the rest (npm run build): tsx would transpile src again in every run, tens of seconds under TCG
    const root = path.resolve(guestDir, '../../..');
    const check = path.join(root, 'dist/test/vm/guest/vfio-check.js');
    const script = [`PKTIO_NICS=0000:00:03.0 bash ${path.join(guestDir, 'prepare.sh')} ${mode} > /dev/null`,
      `cd ${root}`,
      ...mine.map((c, i) => `node ${check} --bdf 0000:00:03.0 --mac-prefix 52:54:00:00:01: ${c.flags} > $PKTIO_VM_OUT/case${i}.json; echo case${i}_rc=$?; cat $PKTIO_VM_OUT/case${i}.json`),
    ].join('\n');
    const r = await runInGuest({ mode, topology: 'one', timeoutSec: 240 }, script);
    showGuestOnFailure(t, r);
    mine.forEach((c, i) => {
      t.equal(r.kv[`case${i}_rc`], '0', `${c.name}: every step passed`);
    });
  });
}
