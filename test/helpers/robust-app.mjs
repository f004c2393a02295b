// An app whose worker lcore fails while forwarding (test/robust-lcore.test.ts runs it as a child process).
//   node test/helpers/robust-app.mjs <throw|exit|oom> [busy]   busy: the main lcore busy-polls quitRequested()
import * as pktio from '../../dist/src/index.js';

const how = process.argv[2];
const busy = process.argv[3] === 'busy';
if (how === 'oom') pktio.setLcoreResourceLimits({ maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 });
await pktio.init(['--no-huge', '-m', '64', '-l', pktio.cpusAllowed().slice(0, 2).join(','), '--vdev', 'net_null0', '--log-level', 'info']);
const pool = pktio.pktmbufPoolCreate('robust', 2047, 0, 0, pktio.MBUF_DEFAULT_BUF_SIZE);
pktio.devConfigure(0, 1, 1);
pktio.rxQueueSetup(0, 0, 256, -1, null, pool);
pktio.txQueueSetup(0, 0, 256, -1);
pktio.devStart(0);
pktio.onLcoreFatal(() => console.log(`FATAL-HOOK ports=${pktio.portIds().length}`));
process.on('exit', (code) => console.log(`EXIT code=${code}`));
const worker = pktio.workerLcores()[0];
pktio.remoteLaunch(worker, new URL('./robust-fns.mjs', import.meta.url), { how, after: 2000 }, 'forwardThenFail');
const t0 = Date.now();
if (busy) {
  while (!pktio.quitRequested() && Date.now() - t0 < 20000);
  console.log(`MAIN-SAW-QUIT after ${Date.now() - t0} ms`);
}
try {
  await pktio.waitLcore(worker);
  console.log('WAIT-RESOLVED');
} catch (e) {
  console.log(`WAIT-REJECTED ${e.message}`);
}
// the EAL ends the process; if it did not, say so and stay alive so the test sees it
setTimeout(() => console.log('STILL-ALIVE'), 10000);
