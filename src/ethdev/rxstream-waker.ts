// The waker thread of rxBursts (rxstream.ts): one per thread that runs streams. It sleeps in epoll_wait on the
// streams' interrupt sources (armed one-shot by the owner before it waits) and turns each event into an
// Atomics.notify on the SharedArrayBuffer word of that queue, which the owner awaits with Atomics.waitAsync:
// the owner's event loop never blocks and no libuv threadpool thread is held. No EAL memory here, only fds.
import { parentPort, workerData } from 'node:worker_threads';
import * as ffi from '../eal/ffi.js';

interface Boot { notify: Int32Array; epfd: number; wakeFd: number }
const { notify, epfd, wakeFd } = workerData as Boot;
/** notify[N_QUIT] = 1: the owner closes the waker; notify[N_QUEUES + port * 16 + queue]: that queue's word */
const N_QUIT = 0;
const N_QUEUES = 1;
const WAKE_KEY = 0xffffffff;

const MAX_EVENTS = 64;
const events = new Uint8Array(MAX_EVENTS * ffi.EPOLL_EVENT_BYTES);
const dv = new DataView(events.buffer);
const drain = new BigUint64Array(1);

function run(): void {
  parentPort?.postMessage('ready');
  for (;;) {
    const rc = ffi.epoll_wait(epfd, events, MAX_EVENTS, -1);
    if (rc < 0) {
      if (ffi.errno() === ffi.EINTR) continue;
      return;
    }
    for (let e = 0; e < rc; e++) {
      const key = dv.getUint32(e * ffi.EPOLL_EVENT_BYTES + 4, true);
      if (key === WAKE_KEY) {
        ffi.read(wakeFd, drain, 8);
        if (Atomics.load(notify, N_QUIT) !== 0) return;
        // a port stopped or quit was requested: every stream looks at its port and the quit flag
        for (let w = N_QUEUES; w < notify.length; w++) {
          Atomics.add(notify, w, 1);
          Atomics.notify(notify, w);
        }
        continue;
      }
      const w = N_QUEUES + key;
      Atomics.add(notify, w, 1);
      Atomics.notify(notify, w);
    }
  }
}

run();
