// Type1 isolation: DMA to an IOVA that was never mapped faults in the vIOMMU and leaves memory untouched.
import t from 'tap';
import * as path from 'node:path';
import { rigMissing, runInGuest, guestDir, showGuestOnFailure } from './vm.js';

const missing = rigMissing();
t.test('unmapped IOVA: vIOMMU fault, memory unchanged, pktio survives', { skip: missing ?? false, timeout: 300000 }, async (t) => {
  const r = await runInGuest({ mode: 'type1', topology: 'one', timeoutSec: 200 },
    `PKTIO_NICS=0000:00:03.0 bash ${path.join(guestDir, 'prepare.sh')} type1 > /dev/null && sleep 2 && node ${path.join(guestDir, 'iommu-fault.mjs')}`);
  showGuestOnFailure(t, r);
  const k = r.kv;
  t.equal(r.code, 0, 'guest script exit status');
  t.equal(k.iommu, 'type1');
  t.ok(Number(k.dmar_faults) > 0, `the vIOMMU logged DMA faults (${k.dmar_faults})`);
  t.equal(k.canary_intact, '1', 'memory next to the mapped segments is unchanged');
  t.equal(k.mbufs_back, '1', 'every mbuf back in the pool after stop');
  t.equal(k.survived, '1', 'pktio neither crashed nor hung');
});
