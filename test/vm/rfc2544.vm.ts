// RFC 2544 in a QEMU guest: the generator (pktio's pktgen, in bench/rfc2544.ts) drives two ports, each on a QEMU hub
// with one port of the device under test; the DUT is pktio's l2fwd, then DPDK's testpmd (its em, igb or virtio
// PMD), both on the other two ports of the same guest (run.sh's l2fwd layout, all four NICs handed to vfio-pci):
//
//   gen port 0 (NS0) -- hub 0 -- DUT port 0 (A) => DUT => DUT port 1 (B) -- hub 1 -- gen port 1 (NS1)
//
// (e1000e and virtio: NS0 00:05.0, A 00:03.0, B 00:04.0, NS1 00:06.0; igb: B 00:07.0, NS1 00:09.0, run.sh's table.)
// Default: e1000e, 64-byte frames, throughput (25% resolution up to 50 kpps: TCG's NICs are slow) and latency,
// short trials, about 3 minutes. PKTIO_VM_RFC2544_NICS=igb,virtio (a comma list, default e1000e): the same test
// once per NIC model, one guest each (igb and virtio need the rig's QEMU 10). PKTIO_VM_RFC2544_FULL=1: every RFC
// 2544 frame size, throughput, latency and loss curve. PKTIO_VM_RFC2544_JUMBO=1: 9018-byte frames beside 64-byte
// ones (--jumbo: both DUTs and the generator's ports take jumbo frames). The JSON record and the charts are written
// to the guest's out share and named in the output.
import t from 'tap';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rigMissing, rigLayout, runInGuest, guestDir, showGuestOnFailure, type VmNic } from './vm.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const full = process.env.PKTIO_VM_RFC2544_FULL === '1';
const jumbo = process.env.PKTIO_VM_RFC2544_JUMBO === '1';
const MODELS: VmNic[] = ['e1000e', 'igb', 'virtio'];
const nics = (process.env.PKTIO_VM_RFC2544_NICS ?? 'e1000e').split(',').map((s) => s.trim()).filter(Boolean) as VmNic[];
// jumbo: a 9018-byte frame crosses TCG's NICs and IOMMU as five 2 KB buffers each way, some hundred a second: the
// search goes down to 1% of the line rate (138 pps at 1 Gbit/s). Every trial waits up to 2 s (the default --drain)
// for frames still in the DUT, and no longer than it takes them to arrive
const args = (full
  ? '--sizes rfc2544 --tests throughput,latency,loss --trial 2 --resolution 5 --max-rate 200000'
  : '--sizes 64 --tests throughput,latency --trial 0.5 --resolution 25 --max-rate 50000 --loss-threshold 1') +
  (jumbo ? ' --jumbo --resolution 1' : '');
const sizes = full ? [64, 128, 256, 512, 1024, 1280, 1518] : [64];
if (jumbo) sizes.push(9018);

for (const nic of nics) {
  const bad = MODELS.includes(nic) ? null : `PKTIO_VM_RFC2544_NICS: unknown NIC '${nic}' (${MODELS.join(', ')}, comma-separated)`;
  const name = `RFC 2544 in the guest on ${nic}: pktio l2fwd and DPDK testpmd side by side${full ? ' (full)' : ''}${jumbo ? ' (jumbo)' : ''}`;
  t.test(name, { skip: bad ?? rigMissing(nic) ?? false, timeout: full ? 3600000 : 900000 }, async (t) => {
    const L = rigLayout(nic, 'l2fwd');
    const script = `
PKTIO_NICS="$PKTIO_VM_PORT_A $PKTIO_VM_PORT_B $PKTIO_VM_NS0 $PKTIO_VM_NS1" PKTIO_VM_KERNEL_NICS= bash ${path.join(guestDir, 'prepare.sh')} type1 > prepare.log 2>&1 || { echo prepare_failed=1; tail prepare.log; exit 1; }
node ${path.join(root, 'dist/bench/rfc2544.js')} --medium ports --gen-ports "-a $PKTIO_VM_NS0 -a $PKTIO_VM_NS1" \\
  --dut-ports "-a $PKTIO_VM_PORT_A -a $PKTIO_VM_PORT_B" --dut pktio,testpmd ${args} --out "$PWD" > rfc2544.txt 2> rfc2544.err
echo rfc2544_rc=$?
grep -v '^{"level' rfc2544.err | tail -40
cat rfc2544.txt
ls "$PWD"/rfc2544-*.json | sed 's/^/rfc2544_json=/'
`;
    const r = await runInGuest({ mode: 'type1', nic, topology: 'l2fwd', timeoutSec: full ? 3300 : 600 }, script);
    showGuestOnFailure(t, r);
    t.comment(r.out.split('\n').filter((l) => /^(\[trial|RFC 2544|size|\d+\s+\||written|.* frame loss)/.test(l)).join('\n'));
    t.equal(r.code, 0, 'guest script exit status');
    t.equal(r.kv.rfc2544_rc, '0', `the runner completes (${L.PKTIO_VM_NS0} ${L.PKTIO_VM_NS1} -> ${L.PKTIO_VM_PORT_A} ${L.PKTIO_VM_PORT_B})`);
    for (const size of sizes) {
      const row = r.out.split('\n').find((l) => new RegExp(`^${size}\\s+\\|`).test(l)) ?? '';
      t.match(row, new RegExp(`^${size}\\s+\\|\\s*[0-9.]+ .*\\|\\s*[0-9.]+ `), `a ${size}-byte row with a throughput for both DUTs`);
    }
    t.match(r.out, /written: .*-throughput\.svg/, 'charts written');
  });
}
