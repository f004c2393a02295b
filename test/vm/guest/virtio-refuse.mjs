// In the guest, after prepare.sh: virtio-refuse.mjs A B on two virtio-net functions that do not offer
// VIRTIO_F_RING_PACKED (run.sh --nic virtio --packed off). Port A is probed with packed_vq=1: its configuration
// must be refused with a message naming the missing feature, the device left reset (device_status 0 read back
// through the driver's xstat) and no mbuf taken from the pool. Port B, with the layout left to negotiation, still
// configures. Prints refuse_*= lines for test/vm/virtio.vm.ts.
import * as pktio from '../../../dist/src/index.js';

const [a, b] = process.argv.slice(2);
await pktio.init(['-l', '0', '-a', `${a},packed_vq=1`, '-a', b, '-m', '128', '--log-level', 'error']);
const pool = pktio.pktmbufPoolCreate('refuse_pool', 1023, 32, 0, pktio.MBUF_DEFAULT_BUF_SIZE);
try {
  pktio.devConfigure(0, 1, 1);
  console.log('refuse_packed=0');
} catch (e) {
  console.log('refuse_packed=1');
  console.log(`refuse_msg=${e.message}`);
}
console.log(`refuse_status=${pktio.xstatsGet(0).find((x) => x.name === 'device_status')?.value}`);
pktio.devConfigure(1, 1, 1);
pktio.rxQueueSetup(1, 0, pktio.devInfoGet(1).rxDescLim.nbMax, -1, null, pool);
pktio.txQueueSetup(1, 0, pktio.devInfoGet(1).txDescLim.nbMax, -1, null);
pktio.devStart(1);
console.log(`refuse_other_started=${pktio.devIsStarted(1) ? 1 : 0}`);
pktio.devStop(1);
for (const p of [0, 1]) pktio.devClose(p);
console.log(`refuse_inuse=${pool.inUseCount()}`); // before cleanup: it unmaps the memory the pool lives in
await pktio.cleanup();
