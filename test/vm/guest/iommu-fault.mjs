// Type1: a receive descriptor that points at an IOVA never mapped in the IOMMU must not reach memory.
// Memory right after the EAL region (mapped in the process, not in the IOMMU) is filled with a pattern and the
// RX descriptors are pointed at it; the kernel NIC on the same hub then sends frames. The vIOMMU must refuse the
// writes (a DMAR fault in the kernel log), the pattern must survive, and pktio must neither crash nor hang.
import * as pktio from '../../../dist/src/index.js';
import * as ffi from '../../../dist/src/eal/ffi.js';
import { execSync } from 'node:child_process';

const bdf = '0000:00:03.0';
await pktio.init(['-l', '0', '-a', bdf, '--vfio-flow', 'legacy', '-m', '64', '--log-level', 'warn']);
const r = pktio.mem();
const pool = pktio.pktmbufPoolCreate('fault_pool', 2047, 0, 0, pktio.MBUF_DEFAULT_BUF_SIZE);
pktio.devConfigure(0, 1, 1);
pktio.rxQueueSetup(0, 0, 256, -1, null, pool);
pktio.txQueueSetup(0, 0, 256, -1, null);
pktio.devStart(0);
pktio.promiscuousEnable(0);
console.log(`iommu=${pktio.vfioState()?.iommuType}`);

// the canary: 2 MiB right after (or, if that is taken, right before) the EAL region: in this process, not in the IOMMU
const len = 2 * 1048576;
const flags = ffi.MAP_PRIVATE | ffi.MAP_ANONYMOUS | ffi.MAP_POPULATE | ffi.MAP_FIXED_NOREPLACE;
let canary = ffi.mmap(r.base + BigInt(r.len), len, ffi.PROT_READ | ffi.PROT_WRITE, flags, -1, 0);
if (canary === ffi.MAP_FAILED) canary = ffi.mmapChecked(r.base - BigInt(len), len, ffi.PROT_READ | ffi.PROT_WRITE, flags, -1, 0, 'canary');
console.log(`canary_adjacent=${canary === r.base + BigInt(r.len) ? 'after' : 'before'}`);
const c8 = new Uint8Array(ffi.view(canary, len));
for (let i = 0; i < len; i++) c8[i] = (i * 7 + 3) & 0xff;

// every RX descriptor's buffer address -> inside the canary (IOVA = VA in type1)
const ring = pktio.memzoneLookup(`net_e1000e_${bdf}_rxr0`); // RX queue 0's descriptor ring (src/pmd/intel/common/port.ts)
const nb = ring.len / 16;
for (let i = 0; i < nb; i++) {
  const iova = Number(canary) + i * 4096;
  r.u32[(ring.off >> 2) + i * 4] = iova >>> 0;
  r.u32[(ring.off >> 2) + i * 4 + 1] = Math.floor(iova / 2 ** 32);
}
const before = Number(execSync('dmesg | grep -c "DMAR.*fault\\|DMAR: \\[DMA Write" || true').toString().trim());
// the kernel NIC asks for an address nobody has: broadcast ARP requests arrive at the pktio port
execSync('ip netns exec ns0 ping -c 3 -i 0.3 -W 1 10.99.0.77 || true', { stdio: 'ignore' });
const pkts = new Uint32Array(32);
let got = 0;
const t0 = Date.now();
while (Date.now() - t0 < 3000) {
  const n = pktio.rxBurst(0, 0, pkts, 32);
  got += n;
  // what came back carries no data written by the device; hand it back
  if (n) pktio.pktmbufFreeBulk(pkts, n);
}
let intact = true;
for (let i = 0; i < len; i++) if (c8[i] !== ((i * 7 + 3) & 0xff)) { intact = false; break; }
const log = execSync('dmesg | grep -i dmar | tail -5 || true').toString();
const after = Number(execSync('dmesg | grep -c "DMAR.*fault\\|DMAR: \\[DMA Write" || true').toString().trim());
console.log(log.split('\n').filter(Boolean).map((l) => `# ${l}`).join('\n'));
console.log(`dmar_faults=${after - before}`);
console.log(`canary_intact=${intact ? 1 : 0}`);
console.log(`rx_returned=${got}`);
pktio.devStop(0);
console.log(`mbufs_back=${pool.availCount() === pool.size ? 1 : 0}`);
await pktio.cleanup();
console.log('survived=1');
