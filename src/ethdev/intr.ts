// RX interrupts (DPDK's rte_eth_dev_rx_intr_enable/disable, rte_eth_dev_rx_intr_ctl_q, rte_epoll_wait), for a lcore
// that would rather sleep than poll an idle queue (l3fwd-power's loop).
//
//   rxIntrCtlQ(port, q, 'add')                  once: the queue's interrupt fd joins this lcore's epoll set
//   loop: n = rxBurst(...)                       poll while packets come
//         idle for a while: if (rxIntrArm(port, q, mbufs, burst) === 0) rxIntrWait(-1, woken); rxIntrDisable(...)
//
// rxIntrArm is rxIntrEnable plus one more poll: a packet that arrived between the last empty poll and the arming
// raised no interrupt on some devices (a ring's producer saw the consumer awake, an edge MSI-X vector fired
// while masked), and sleeping then would leave it in the queue until the next packet: DPDK's l3fwd-power race.
// Arming first and polling after closes it by construction: whatever arrives after the arming wakes the sleeper,
// whatever arrived before it is found by the poll (and the queue is disarmed again before returning it).
//
// Every thread has its own epoll set (RTE_EPOLL_PER_THREAD) with a wake eventfd in it (intr-wake.ts): devStop and
// requestQuit write it, so rxIntrWait returns at once and the lcore's loop sees the stopped port or the quit flag.
// Sources are file descriptors, process-wide: the main lcore's driver opened them, any lcore may epoll them.
// None of this is the hot path: it runs once per sleep, when a queue has gone idle.
import * as ffi from '../eal/ffi.js';
import { quitRequested } from '../eal/lcore.js';
import type { RxIntrSource, RxQueue } from '../pmd/driver.js';
import { EthdevError, MAX_ETHPORTS, MAX_QUEUES_PER_PORT, portIntrDoc, rxQueueObject, rxBurst } from './ethdev.js';
import { wakeSlotClaim, wakeSlotPorts, wakeSlotRelease } from './intr-wake.js';

const MAX_EVENTS = 64;
/** epoll data of the wake eventfd; a queue's is (port << 16) | queue */
const WAKE_KEY = 0xffffffff;
/** longest single epoll_wait: a quit requested through the EAL alone (not pktio's requestQuit) is seen this late */
const QUIT_CHECK_MS = 500;

/** This thread's epoll set (created by the first rxIntrCtlQ). */
interface EpollSet {
  epfd: number;
  wakeFd: number;
  slot: number;
  /** fd + 1 registered per port * 16 + queue (0: not in the set), and its kind */
  fds: Int32Array;
  kinds: Array<RxIntrSource['kind'] | undefined>;
  /** queues in the set per port, for the wake table's port mask */
  perPort: Int32Array;
  events: Uint8Array;
  evView: DataView;
}

let set: EpollSet | null = null;
const ev = new Uint8Array(ffi.EPOLL_EVENT_BYTES);
const evView = new DataView(ev.buffer);
const drain = new BigUint64Array(1);
const scratch = new Uint32Array(MAX_ETHPORTS * MAX_QUEUES_PER_PORT);

function epollSet(): EpollSet {
  if (set) return set;
  const epfd = ffi.check(ffi.epoll_create1(ffi.EPOLL_CLOEXEC), 'epoll_create1');
  const wakeFd = ffi.check(ffi.eventfd(0, ffi.EFD_CLOEXEC | ffi.EFD_NONBLOCK), 'eventfd (RX interrupt wake-up)');
  ffi.check(-ctl(epfd, ffi.EPOLL_CTL_ADD, wakeFd, WAKE_KEY), 'epoll_ctl ADD (RX interrupt wake-up)');
  const slot = wakeSlotClaim(wakeFd);
  const events = new Uint8Array(MAX_EVENTS * ffi.EPOLL_EVENT_BYTES);
  set = {
    epfd, wakeFd, slot, fds: new Int32Array(MAX_ETHPORTS * MAX_QUEUES_PER_PORT), kinds: [],
    perPort: new Int32Array(MAX_ETHPORTS), events, evView: new DataView(events.buffer),
  };
  return set;
}

/** epoll_ctl for EPOLLIN with `key` as the event's data; returns 0 or the errno. */
function ctl(epfd: number, op: number, fd: number, key: number): number {
  evView.setUint32(0, ffi.EPOLLIN, true);
  evView.setUint32(4, key >>> 0, true);
  evView.setUint32(8, 0, true);
  return ffi.epoll_ctl(epfd, op, fd, op === ffi.EPOLL_CTL_DEL ? null : ev) < 0 ? ffi.errno() : 0;
}

/** The published interrupt source of a queue, or an EthdevError that says what to change. */
function intrSource(port: number, queue: number): RxIntrSource {
  const doc = portIntrDoc(port);
  if (!doc) throw new EthdevError(`port ${port} is not started: RX interrupts are valid from devStart to devStop`);
  if (!doc.intrRxq) throw new EthdevError(`port ${port} was not configured with intrConf.rxq (devConfigure(port, nbRxq, nbTxq, { intrConf: { rxq: true } }))`);
  if (!Number.isInteger(queue) || queue < 0 || queue >= doc.nbRxq) throw new EthdevError(`port ${port}: no RX queue ${queue} (${doc.nbRxq} configured)`);
  return doc.rxIntr[queue];
}

/**
 * Adds the queue's interrupt source to this lcore's epoll set, or removes it (rte_eth_dev_rx_intr_ctl_q with
 * RTE_EPOLL_PER_THREAD). Any lcore; the port must be started with intrConf.rxq.
 */
export function rxIntrCtlQ(port: number, queue: number, op: 'add' | 'del'): void {
  const s = epollSet();
  const i = port * MAX_QUEUES_PER_PORT + queue;
  if (op === 'del') {
    if (!Number.isInteger(i) || i < 0 || i >= s.fds.length || s.fds[i] === 0) return;
    // the driver may have closed the fd already at stop (then the kernel dropped it from the set): ignore errors
    ctl(s.epfd, ffi.EPOLL_CTL_DEL, s.fds[i] - 1, i);
    s.fds[i] = 0;
    s.kinds[i] = undefined;
    if (--s.perPort[port] === 0) wakeSlotPorts(s.slot, portMask(s));
    return;
  }
  if (op !== 'add') throw new EthdevError(`rxIntrCtlQ: op '${String(op)}': use 'add' or 'del'`);
  const src = intrSource(port, queue);
  if (s.fds[i] !== 0) {
    if (s.fds[i] === src.fd + 1) return;
    rxIntrCtlQ(port, queue, 'del'); // a restarted port's new source
  }
  const err = ctl(s.epfd, ffi.EPOLL_CTL_ADD, src.fd, (port << 16) | queue);
  if (err !== 0) throw new EthdevError(`port ${port} RX queue ${queue}: epoll_ctl ADD of fd ${src.fd}: ${ffi.strerror(err)}`);
  s.fds[i] = src.fd + 1;
  s.kinds[i] = src.kind;
  s.perPort[port]++;
  wakeSlotPorts(s.slot, portMask(s));
}

function portMask(s: EpollSet): number {
  let m = 0;
  for (let p = 0; p < MAX_ETHPORTS; p++) if (s.perPort[p] > 0) m |= 1 << p;
  return m;
}

/** Queue objects of this lcore found to belong to a port configured with intrConf.rxq (checked once per object). */
const checked = new WeakSet<RxQueue>();

function queueOf(port: number, queue: number, what: 'intrEnable' | 'intrDisable'): RxQueue {
  const q = rxQueueObject(port, queue);
  if (q === undefined) throw new EthdevError(`port ${port} is not started: RX interrupts are valid from devStart to devStop`);
  if (checked.has(q)) return q;
  intrSource(port, queue); // throws "not configured with intrConf.rxq"
  if (typeof q[what] !== 'function') {
    throw new EthdevError(`port ${port}: RX interrupts are not supported by ${portIntrDoc(port)?.driver ?? 'its driver'} (or RX queue ${queue} is stopped)`);
  }
  checked.add(q);
  return q;
}

/** Arms the queue's interrupt (rte_eth_dev_rx_intr_enable), on the lcore that polls it. Prefer rxIntrArm. */
export function rxIntrEnable(port: number, queue: number): void {
  queueOf(port, queue, 'intrEnable').intrEnable!();
}

/** Disarms it (rte_eth_dev_rx_intr_disable): call after waking, before polling again. */
export function rxIntrDisable(port: number, queue: number): void {
  queueOf(port, queue, 'intrDisable').intrDisable!();
}

/**
 * Arms the queue's interrupt, then polls it once more (see the top of this file). Returns how many packets that
 * poll received into mbufs[0..n): 0 means the queue is armed and empty, sleep in rxIntrWait; more means it is
 * disarmed again and the caller goes on polling with these packets.
 */
export function rxIntrArm(port: number, queue: number, mbufs: Uint32Array, n: number): number {
  const q = queueOf(port, queue, 'intrEnable');
  q.intrEnable!();
  const got = rxBurst(port, queue, mbufs, n);
  if (got > 0) q.intrDisable!();
  return got;
}

/**
 * Sleeps until a queue in this lcore's set has packets, a port in the set is stopped, or requestQuit() is called
 * (rte_epoll_wait). timeoutMs < 0 waits without a limit. Writes (port << 16) | queue of each ready queue into
 * `woken` (a stopped port's queues count as ready: their next rxBurst returns 0 and portIsStarted() says why),
 * drains the eventfd sources that fired, and returns how many queues it wrote (0: timeout or quit). Blocks the
 * thread: meant for worker lcores (rxBursts() waits without blocking an event loop).
 */
export function rxIntrWait(timeoutMs: number, woken: Uint32Array = scratch): number {
  const s = set;
  if (!s) throw new EthdevError('rxIntrWait: this lcore has no RX queue to wait on: rxIntrCtlQ(port, queue, \'add\') first');
  const forever = !(timeoutMs >= 0);
  let left = forever ? 0 : timeoutMs;
  for (;;) {
    if (quitRequested()) return 0;
    const slice = forever || left > QUIT_CHECK_MS ? QUIT_CHECK_MS : left;
    const rc = ffi.epoll_wait(s.epfd, s.events, MAX_EVENTS, slice);
    if (rc < 0) {
      const e = ffi.errno();
      if (e === ffi.EINTR) continue;
      throw new EthdevError(`rxIntrWait: epoll_wait: ${ffi.strerror(e)}`);
    }
    if (rc > 0) return readyQueues(s, rc, woken);
    if (!forever) {
      left -= slice;
      if (left <= 0) return 0;
    }
  }
}

/** Turns rc epoll events into woken queue keys; drains eventfds; a wake-up reports stopped ports' queues. */
function readyQueues(s: EpollSet, rc: number, woken: Uint32Array): number {
  let n = 0;
  let wake = false;
  for (let e = 0; e < rc; e++) {
    const key = s.evView.getUint32(e * ffi.EPOLL_EVENT_BYTES + 4, true);
    if (key === WAKE_KEY) {
      wake = true;
      ffi.read(s.wakeFd, drain, 8);
      continue;
    }
    const i = (key >>> 16) * MAX_QUEUES_PER_PORT + (key & 0xffff);
    if (s.kinds[i] === 'eventfd') ffi.read(s.fds[i] - 1, drain, 8);
    if (n < woken.length) woken[n++] = key;
  }
  if (wake) n = addStopped(s, woken, n);
  return n;
}

function addStopped(s: EpollSet, woken: Uint32Array, n: number): number {
  for (let i = 0; i < s.fds.length && n < woken.length; i++) {
    if (s.fds[i] === 0) continue;
    const port = (i / MAX_QUEUES_PER_PORT) | 0;
    const key = (port << 16) | (i % MAX_QUEUES_PER_PORT);
    if (portIntrDoc(port) === null && !woken.subarray(0, n).includes(key)) woken[n++] = key;
  }
  return n;
}

/** Closes this thread's epoll set and frees its wake slot (a lcore that is done sleeping; also at thread exit). */
export function rxIntrRelease(): void {
  const s = set;
  if (!s) return;
  set = null;
  wakeSlotRelease(s.slot);
  ffi.close(s.wakeFd);
  ffi.close(s.epfd);
}
