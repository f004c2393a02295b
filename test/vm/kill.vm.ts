// kill -9 of a forwarding l2fwd in a QEMU guest: after the kill the NICs do not DMA (bus mastering off, receive and
// transmit disabled, read by a second process from sysfs config and BAR 0), a new l2fwd takes the same ports at
// once and forwards, and kill/restart cycles leave every hugepage free and no file in the hugetlbfs mounts.
// Default: VFIO type1, 3 cycles. PKTIO_VM_KILL_ALL=1: type1, no-IOMMU and cdev, 20 cycles each.
import t from 'tap';
import * as path from 'node:path';
import { rigMissing, rigLayout, runInGuest, guestDir, showGuestOnFailure, type VmMode } from './vm.js';

const all = process.env.PKTIO_VM_KILL_ALL === '1';
// PKTIO_VM_KILL_MODES=noiommu,cdev picks modes (with the cycle count of the run)
const modes = (process.env.PKTIO_VM_KILL_MODES?.split(',') ?? (all ? ['type1', 'noiommu', 'cdev'] : ['type1'])) as VmMode[];
const cycles = all ? 20 : 3;
const missing = rigMissing('e1000e');

for (const mode of modes) {
  t.test(`kill -9 under traffic, ${cycles} restarts, VFIO ${mode}`, { skip: missing ?? false, timeout: 1800000 }, async (t) => {
    const lay = rigLayout('e1000e');
    const r = await runInGuest({ mode, nic: 'e1000e', timeoutSec: 120 + cycles * 60 },
      `bash ${path.join(guestDir, 'kill-e2e.sh')} ${mode} ${cycles}`);
    showGuestOnFailure(t, r);
    const k = r.kv;
    t.equal(r.code, 0, 'guest script exit status');
    // while l2fwd runs vfio-pci holds BAR 0 (sysfs mmap refused): the command register alone shows the reader works
    const live = /live_A busmaster=(\d) mem=(\d)/.exec(r.out);
    t.same(live?.slice(1), ['1', '1'], 'while l2fwd runs the reader sees bus mastering and memory decode on');
    for (let i = 1; i <= cycles; i++) {
      t.equal(k[`c${i}_started`], '1', `cycle ${i}: l2fwd took both ports (in ${k[`c${i}_start_s`]} s)`);
      t.equal(k[`c${i}_ping_rc`], '0', `cycle ${i}: and forwarded a ping from ns0 to ns1`);
      t.equal(k[`c${i}_rc`], '137', `cycle ${i}: killed by SIGKILL`);
      for (const p of ['A', 'B']) {
        const m = new RegExp(`c${i}_${p} busmaster=(\\d) mem=(\\d) rctl_en=(\\d) tctl_en=(\\d)`).exec(r.out);
        t.ok(m, `cycle ${i}: port ${p} (${lay[`PKTIO_VM_PORT_${p}`]}) read back`);
        t.same([m?.[1], m?.[3], m?.[4]], ['0', '0', '0'], `cycle ${i}: port ${p}: bus mastering off, RX and TX disabled (memory decode ${m?.[2]})`);
      }
    }
    t.equal(k.huge_free_after, k.huge_free_before, `HugePages_Free back to ${k.huge_free_before}`);
    t.equal(k.huge_files_after, k.huge_files_before, 'no file left in the hugetlbfs mounts');
  });
}
