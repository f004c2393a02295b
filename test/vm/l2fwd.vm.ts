// End to end in a QEMU guest, for each VFIO mode and NIC family: examples/l2fwd bridges two ports driven by pktio
// (two e1000e, two igb, or one igb and one e1000e); a kernel NIC of the same model on each side (namespaces ns0,
// ns1) pings through it and sends 10,000 UDP datagrams; pktio's counters must match the kernel's, and after SIGINT
// the NICs must not DMA. Jumbo phases: MTU 9000, a 9000-byte ping with DF, 1,000 datagrams of 8,000 bytes. The
// features phase checks RSS and offloads on port A (checks.ts). One guest per line below runs its phases in turn.
import t from 'tap';
import * as path from 'node:path';
import { rigMissing, rigLayout, runInGuest, guestDir, showGuestOnFailure, type VmMode, type VmNic } from './vm.js';
import { checkL2fwd, checkFeatures, phase } from './checks.js';

type Phase = 'l2fwd' | 'jumbo' | 'features';
interface Run { mode: VmMode; nic: VmNic; phases: Phase[]; awBits?: number }
const ALL = process.env.PKTIO_VM_L2FWD_ALL === '1';
// Each VFIO mode is crossed by an Intel NIC in the default run (type1: both models, e1000e behind a 39-bit IOMMU;
// no-IOMMU: igb, jumbo chains in PA mode included; cdev: e1000e); RSS and offloads (features) run once, in type1,
// as they do not depend on the mode. PKTIO_VM_L2FWD_ALL=1 runs every model in every mode with every phase, the
// mixed pair, and e1000e type1 behind a 48-bit IOMMU too. CI's 30 minutes allow no more.
const runs: Run[] = [
  // jumbo first: after an l2fwd phase in the same guest, 3 of 1,000 jumbo datagrams have gone missing between
  // pktio's TX (the NIC's GPTC counted them) and ns1's kernel NIC, with e1000e (QEMU 7.2 and 10) and igb; alone,
  // or first, every one arrives. Not understood yet (see the closing note of the Intel issue).
  // 39 bits: QEMU's default vIOMMU, narrower than user addresses; pktio must map EAL memory low by itself (the
  // 48-bit type1 IOMMU is in the igb guest below and in every other VM test's e1000e guest)
  { mode: 'type1', nic: 'e1000e', phases: ['jumbo', 'l2fwd'], awBits: 39 },
  ...(ALL ? [{ mode: 'type1', nic: 'e1000e', phases: ['jumbo', 'l2fwd'] } as Run, { mode: 'noiommu', nic: 'e1000e', phases: ['l2fwd'] } as Run] : []),
  { mode: 'cdev', nic: 'e1000e', phases: ['l2fwd'] },
  { mode: 'type1', nic: 'igb', phases: ['jumbo', 'l2fwd', 'features'] },
  { mode: 'noiommu', nic: 'igb', phases: ALL ? ['jumbo', 'l2fwd', 'features'] : ['jumbo', 'l2fwd'] },
  ...(ALL ? [
    { mode: 'cdev', nic: 'igb', phases: ['jumbo', 'l2fwd', 'features'] } as Run,
    { mode: 'type1', nic: 'mixed', phases: ['l2fwd'] } as Run,
  ] : []),
];

for (const { mode, nic, phases, awBits = 48 } of runs) {
  const ports = nic === 'mixed' ? 'an igb and an e1000e port' : `two ${nic} ports`;
  const name = `${phases.join(', ')} over ${ports}, VFIO ${mode}${awBits !== 48 ? ` with a ${awBits}-bit IOMMU` : ''}`;
  const missing = rigMissing(nic);
  t.test(name, { skip: missing ?? false, timeout: 900000 }, async (t) => {
    const layout = rigLayout(nic);
    const r = await runInGuest({ mode, nic, awBits, timeoutSec: 240 * phases.length },
      `bash ${path.join(guestDir, 'nic-suite.sh')} ${mode} ${phases.join(' ')}`);
    showGuestOnFailure(t, r);
    t.equal(r.code, 0, 'guest script exit status');
    for (const p of phases) {
      t.test(p, async (t) => {
        const k = phase(r.kv, p);
        t.equal(k.rc, '0', `${p} phase exit status`);
        if (p === 'features') checkFeatures(t, k);
        else checkL2fwd(t, k, r.out.split('\n').filter((l) => l.startsWith(`${p}_`)).join('\n'),
          { mode, ports: [layout.PKTIO_VM_PORT_A, layout.PKTIO_VM_PORT_B], jumbo: p === 'jumbo' });
      });
    }
  });
}
