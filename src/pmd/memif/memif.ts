// net_memif: shared-memory packet interface, protocol-compatible with DPDK 22.11's net_memif and libmemif (memif
// 2.0, copy mode, polling). `--vdev net_memif0,role=server|client,id=0,socket=/run/memif.sock,socket-abstract=yes,
// bsize=2048,rsize=10,mac=..,secret=..` with DPDK's defaults (rte_eth_memif.c: role client, abstract socket).
//
// Control half (main lcore): the conversation of proto.ts over a nonblocking unix socket, polled every
// POLL_MS from a timer so nothing blocks. The client creates region 0 (memfd, rings then buffers: region.ts) and
// maps it into the EAL window; the server maps what ADD_REGION passes. A connection publishes each queue's ring to
// the data planes in the port's queue blocks; link up after CONNECT/CONNECTED. When the peer goes (DISCONNECT,
// closed socket, a bad descriptor) the link goes down at once; its regions and eventfds are released only when
// every queue's data plane has acknowledged the down state (or a second passed: nobody polls that queue), so no
// burst ever touches unmapped memory. A client reconnects every second, as DPDK's does.
//
// Several queue pairs: queue q drives ring q of its direction (client TX = C2S, RX = S2C; server the reverse).
// Data half: dataplane.ts.
import * as fs from 'node:fs';
import * as ffi from '../../eal/ffi.js';
import { mem, extmemMap, extmemUnmap, extmemLookup } from '../../eal/memory.js';
import { log } from '../../eal/log.js';
import type { Mempool } from '../../mempool/mempool.js';
import type { Link, PmdInfo, RxConf, TxConf, RxIntrSource } from '../driver.js';
import { registerDataPlane } from '../registry.js';
import { SoftPort, type SoftLimits } from '../soft/base.js';
import { argInt, argChoice, argMac, argStr, localMac, DevArgError } from '../soft/args.js';
import { MemifRx, MemifTx, type MemifQueueSpec } from './dataplane.js';
import { Channel, ChannelError, unixListen, unixConnect, unixAccept } from './channel.js';
import {
  MEMIF_VERSION, MEMIF_MSG_TYPE_ACK, MEMIF_MSG_TYPE_HELLO, MEMIF_MSG_TYPE_INIT, MEMIF_MSG_TYPE_ADD_REGION,
  MEMIF_MSG_TYPE_ADD_RING, MEMIF_MSG_TYPE_CONNECT, MEMIF_MSG_TYPE_CONNECTED, MEMIF_MSG_TYPE_DISCONNECT,
  MEMIF_MSG_ADD_RING_FLAG_C2S, MEMIF_INTERFACE_MODE_ETHERNET, MEMIF_RING_C2S, MEMIF_RING_S2C, MEMIF_SECRET_SZ,
  MEMIF_COOKIE, MSG_TYPE_NAMES, decodeMsg, encodeMsg, type MemifMsg, type MsgFields,
} from './proto.js';
import {
  RING_COOKIE, RING_FLAGS, RING_HEAD, RING_TAIL, MEMIF_RING_FLAG_MASK_INT, ringBytes, regionLayout, ringOffset,
  initRing, QC_WORDS, QCI_STATE, QCI_ACK, QCI_BAD, QC_RING, QC_LOG2, QC_BSIZE, QC_KICK_FD, QC_NREG, QC_REG, QC_INTR_FD,
  MAX_REGIONS, ETH_MEMIF_DEFAULT_SOCKET_FILENAME, ETH_MEMIF_DEFAULT_RING_SIZE, ETH_MEMIF_DEFAULT_PKT_BUFFER_SIZE,
  ETH_MEMIF_MAX_LOG2_RING_SIZE, ETH_MEMIF_MAX_NUM_Q_PAIRS,
} from './region.js';

const DRIVER = 'net_memif';
/** how often the control channel is polled */
const POLL_MS = 10;
/** a client's reconnect period (DPDK: 1 s) */
const RECONNECT_MS = 1000;
/** how long released regions wait for a data plane that does not acknowledge (its queue is not polled) */
const RELEASE_GRACE_MS = 1000;
/** largest region a peer may ask us to map */
const MAX_REGION_BYTES = 512 * 1048576;
const APP_NAME = 'pktio';

export interface MemifConf {
  role: 'server' | 'client';
  id: number;
  socket: string;
  abstract: boolean;
  bsize: number;
  log2: number;
  secret: string;
  ownerUid: number;
  ownerGid: number;
}

/** What the control half knows of a port's connection (memifStatus()). */
export interface MemifStatus {
  connected: boolean;
  remoteName: string;
  remoteIfName: string;
  /** the last problem reported for this port ('' once connected) */
  lastError: string;
  /** why the link last went down */
  lastDown: string;
  connects: number;
  disconnects: number;
  log2RingSize: number;
}

/** A problem with the peer: `reason` goes to the peer in DISCONNECT (memif_socket.c's strings), `hint` to our log. */
class PeerError extends Error {
  constructor(readonly reason: string, readonly hint: string) {
    super(`${reason}: ${hint}`);
  }
}

interface RingInfo { region: number; offset: number; log2: number; fd: number }
interface RegionInfo { name: string; off: number; len: number }

/** One connection: its socket and everything it made or received, released together. */
class Conn {
  readonly ch: Channel;
  readonly regions: RegionInfo[] = [];
  readonly c2s: RingInfo[] = [];
  readonly s2c: RingInfo[] = [];
  /** descriptors to close on release (memfds, eventfds) */
  readonly fds: number[] = [];
  /** client: messages waiting for the server's ACK of the previous one */
  readonly outbox: Array<{ msg: Buffer; fd: number }> = [];
  helloSeen = false;
  connected = false;
  remoteName = '';
  remoteIfName = '';
  log2 = 0;
  constructor(ch: Channel) {
    this.ch = ch;
  }
}

interface Release { regions: string[]; fds: number[]; down: number; deadline: number }

// ---- shared listeners (servers): one socket serves every server port bound to it, told apart by id -------------
class Listener {
  readonly key: string;
  readonly fd: number;
  readonly ports = new Map<number, MemifPort>();
  readonly pending = new Set<Channel>();

  constructor(readonly path: string, readonly abstract: boolean, owner: [number, number]) {
    this.key = `${abstract ? '@' : ''}${path}`;
    if (!abstract) clearStaleSocket(path);
    this.fd = unixListen(path, abstract);
    if (!abstract && (owner[0] >= 0 || owner[1] >= 0)) fs.chownSync(path, owner[0], owner[1]);
  }

  poll(): void {
    for (let fd; (fd = unixAccept(this.fd)) >= 0;) {
      const ch = new Channel(fd);
      try {
        ch.send(encodeMsg(MEMIF_MSG_TYPE_HELLO, {
          name: APP_NAME, min_version: MEMIF_VERSION, max_version: MEMIF_VERSION, max_region: MAX_REGIONS - 1,
          max_c2s_ring: ETH_MEMIF_MAX_NUM_Q_PAIRS, max_s2c_ring: ETH_MEMIF_MAX_NUM_Q_PAIRS,
          max_log2_ring_size: ETH_MEMIF_MAX_LOG2_RING_SIZE,
        }));
        this.pending.add(ch);
      } catch {
        ch.close();
      }
    }
    for (const ch of this.pending) this.pollPending(ch);
  }

  /** A connection that has not named its interface yet: the first message must be INIT. */
  private pollPending(ch: Channel): void {
    const r = ch.recv();
    if (r.kind === 'again') return;
    this.pending.delete(ch);
    if (r.kind === 'closed') {
      ch.close();
      return;
    }
    if (r.fd >= 0) ffi.close(r.fd);
    let port: MemifPort | undefined;
    try {
      const m = decodeMsg(r.bytes, r.n);
      if (m.type !== MEMIF_MSG_TYPE_INIT) throw new PeerError('Unexpected message', `${MSG_TYPE_NAMES[m.type]} before INIT`);
      port = this.ports.get(Number(m.f.id));
      if (!port) throw new PeerError('ID not found', `a client asked for id=${m.f.id}: no started server port has that id on this socket`);
      port.acceptInit(ch, m.f);
    } catch (e) {
      const pe = e instanceof PeerError ? e : new PeerError('Invalid message', (e as Error).message);
      sendDisconnect(ch, pe.reason);
      ch.close();
      if (port) port.report(`a client of socket ${this.key} was refused: ${pe.reason}: ${pe.hint}`);
      else log('memif').warn({ socket: this.key }, `refused a client: ${pe.hint}`);
    }
  }

  close(): void {
    for (const ch of this.pending) ch.close();
    this.pending.clear();
    ffi.close(this.fd);
    if (!this.abstract) {
      try { fs.unlinkSync(this.path); } catch { /* already gone */ }
    }
  }
}

/** A socket file left by a dead server is removed; one a live server answers on is an error. */
function clearStaleSocket(path: string): void {
  let st: fs.Stats;
  try { st = fs.statSync(path); } catch { return; }
  if (!st.isSocket()) throw new DevArgError(`${DRIVER}: socket=${path} exists and is not a socket: give another path`);
  const fd = unixConnect(path, false);
  if (fd >= 0) {
    ffi.close(fd);
    throw new DevArgError(`${DRIVER}: socket=${path} is served by another process: give another socket=`);
  }
  fs.unlinkSync(path);
}

function sendDisconnect(ch: Channel, reason: string): void {
  try {
    ch.send(encodeMsg(MEMIF_MSG_TYPE_DISCONNECT, { code: 0, string: reason }));
  } catch { /* the peer is gone already */ }
}

const listeners = new Map<string, Listener>();
const active = new Set<MemifPort>();
const byName = new Map<string, MemifPort>();
let timer: NodeJS.Timeout | null = null;

function tick(): void {
  for (const l of listeners.values()) {
    try { l.poll(); } catch (e) { log('memif').error({ socket: l.key }, `listener: ${(e as Error).message}`); }
  }
  for (const p of active) {
    try { p.poll(); } catch (e) { log('memif').error({ dev: p.name }, `control channel: ${(e as Error).message}`); }
  }
}

function activate(p: MemifPort): void {
  active.add(p);
  if (!timer) {
    timer = setInterval(tick, POLL_MS);
    timer.unref();
  }
}

function deactivate(p: MemifPort): void {
  active.delete(p);
  if (active.size === 0 && timer) {
    clearInterval(timer);
    timer = null;
  }
}

/** The connection state of a memif port by device name (tests, tools). */
export function memifStatus(devName: string): MemifStatus | null {
  return byName.get(devName)?.status() ?? null;
}

/** Runs the control channels once now (tests that poll without yielding to the timer). */
export function memifPoll(): void {
  tick();
}

let instances = 0;

export class MemifPort extends SoftPort {
  readonly driverName = DRIVER;
  readonly mconf: MemifConf;
  private block = -1;
  private one = -1;
  private epoch = 0;
  private conn: Conn | null = null;
  private releases: Release[] = [];
  private nextConnect = 0;
  private lastError = '';
  private lastDown = '';
  private connects = 0;
  private disconnects = 0;
  private seq = 0;
  /** per RX queue with intrConf.rxq: the epoll fd that is its interrupt source (start to stop) */
  private intrEp: number[] = [];

  constructor(name: string, mac: Uint8Array, conf: MemifConf) {
    super(name, mac);
    this.mconf = conf;
  }

  protected limits(): SoftLimits {
    return {
      maxRxQueues: ETH_MEMIF_MAX_NUM_Q_PAIRS, maxTxQueues: ETH_MEMIF_MAX_NUM_Q_PAIRS, maxRxPktLen: 9018,
      descMax: 1 << ETH_MEMIF_MAX_LOG2_RING_SIZE, defaultRing: 1 << this.mconf.log2, speed: 100000,
    };
  }

  override configure(nbRxq: number, nbTxq: number, conf: Parameters<SoftPort['configure']>[2]): void {
    super.configure(nbRxq, nbTxq, conf);
    const z = this.zone('qc', (nbRxq + nbTxq) * QC_WORDS * 8 + 64);
    mem().u8.fill(0, z.off, z.off + z.len);
    this.block = z.off;
    this.one = z.off + (nbRxq + nbTxq) * QC_WORDS * 8;
    mem().u32[this.one >> 2] = 1; // the u64 1 an eventfd write adds
    for (let q = 0; q < nbRxq + nbTxq; q++) mem().f64[((z.off + q * QC_WORDS * 8) >> 3) + QC_INTR_FD] = -1;
  }

  /**
   * RX queue q's interrupt source: an epoll fd of the port's (valid start to stop) that holds the eventfd of the
   * queue's ring while a peer is connected; readable while that eventfd counts (a level source: intrDisable drains).
   */
  rxIntrSource(q: number): RxIntrSource {
    return { fd: this.intrEp[q], kind: 'level' };
  }

  /** Puts the connection's RX ring eventfds into the queues' epoll fds and wakes their sleepers (link up). */
  private intrJoin(rxRings: RingInfo[], join: boolean): void {
    const ev = new Uint8Array(ffi.EPOLL_EVENT_BYTES);
    ev[0] = ffi.EPOLLIN;
    for (let q = 0; q < this.intrEp.length && q < rxRings.length; q++) {
      const fd = rxRings[q].fd;
      if (!join) {
        ffi.epoll_ctl(this.intrEp[q], ffi.EPOLL_CTL_DEL, fd, null);
        continue;
      }
      ffi.fcntl(fd, ffi.F_SETFL, ffi.fcntl(fd, ffi.F_GETFL, 0) | ffi.O_NONBLOCK);
      ffi.check(ffi.epoll_ctl(this.intrEp[q], ffi.EPOLL_CTL_ADD, fd, ev), `${this.name}: epoll_ctl ADD of RX ring ${q}'s eventfd`);
      ffi.write(fd, ONE_U64, 8); // a queue asleep across the reconnection polls its new ring
    }
  }

  private blockOf(rx: boolean, q: number): number {
    return this.block + (rx ? q : this.nbRxq + q) * QC_WORDS * 8;
  }

  rxQueueSetup(q: number, _nb: number, _conf: RxConf, pool: Mempool, portId: number): MemifQueueSpec {
    return { port: portId, queue: q, pool: pool.name, block: this.blockOf(true, q), one: this.one, c2s: this.mconf.role === 'server' };
  }

  txQueueSetup(q: number, _nb: number, _conf: TxConf, portId: number): MemifQueueSpec {
    return { port: portId, queue: q, block: this.blockOf(false, q), one: this.one, c2s: this.mconf.role === 'client' };
  }

  override start(): void {
    if (this.mconf.role === 'server') {
      const key = `${this.mconf.abstract ? '@' : ''}${this.mconf.socket}`;
      let l = listeners.get(key);
      if (!l) {
        l = new Listener(this.mconf.socket, this.mconf.abstract, [this.mconf.ownerUid, this.mconf.ownerGid]);
        listeners.set(key, l);
      }
      const other = l.ports.get(this.mconf.id);
      if (other && other !== this) throw new DevArgError(`${this.name}: ${other.name} already serves id=${this.mconf.id} on socket ${key}: give another id=`);
      l.ports.set(this.mconf.id, this);
    }
    this.nextConnect = 0;
    if (this.conf.intrConf?.rxq) {
      for (let q = 0; q < this.nbRxq; q++) this.intrEp.push(ffi.check(ffi.epoll_create1(ffi.EPOLL_CLOEXEC), `${this.name}: epoll_create1`));
    }
    super.start();
    byName.set(this.name, this);
    activate(this);
  }

  override stop(): void {
    this.teardown('Device stopped', true, true);
    this.releaseAll();
    if (this.mconf.role === 'server') {
      const key = `${this.mconf.abstract ? '@' : ''}${this.mconf.socket}`;
      const l = listeners.get(key);
      if (l && l.ports.get(this.mconf.id) === this) {
        l.ports.delete(this.mconf.id);
        if (l.ports.size === 0) {
          l.close();
          listeners.delete(key);
        }
      }
    }
    deactivate(this);
    for (const fd of this.intrEp) ffi.close(fd);
    this.intrEp = [];
    super.stop();
  }

  override close(): void {
    if (this.started) this.stop();
    byName.delete(this.name);
    super.close();
  }

  override linkGet(_wait: boolean): Link {
    return { up: this.started && this.conn?.connected === true, speed: 100000, fullDuplex: true, autoneg: false };
  }

  status(): MemifStatus {
    const c = this.conn;
    return {
      connected: c?.connected === true, remoteName: c?.remoteName ?? '', remoteIfName: c?.remoteIfName ?? '',
      lastError: this.lastError, lastDown: this.lastDown, connects: this.connects, disconnects: this.disconnects, log2RingSize: c?.log2 ?? 0,
    };
  }

  /** Logs a problem once: the same message again (a client retrying every second) stays quiet. */
  report(msg: string): void {
    this.lastDown = msg;
    if (msg === this.lastError) return;
    this.lastError = msg;
    log('memif').warn({ dev: this.name }, msg);
  }

  // ---- polling ---------------------------------------------------------------------------------------------
  poll(): void {
    try {
      if (this.conn) this.pollConn(this.conn);
      else if (this.mconf.role === 'client' && this.started && Date.now() >= this.nextConnect) this.tryConnect();
      this.checkBad();
    } catch (e) {
      const pe = e instanceof PeerError ? e : new PeerError('Internal error', (e as Error).message);
      this.report(`${this.peerWord()} connection failed: ${pe.hint}`);
      this.teardown(pe.reason, true, false);
    }
    this.releaseDue();
  }

  private peerWord(): string {
    return `${this.mconf.role === 'client' ? 'server' : 'client'} on socket ${this.mconf.abstract ? '@' : ''}${this.mconf.socket}:`;
  }

  private tryConnect(): void {
    this.nextConnect = Date.now() + RECONNECT_MS;
    const fd = unixConnect(this.mconf.socket, this.mconf.abstract);
    if (fd < 0) {
      this.report(`no memif server on socket ${this.mconf.abstract ? '@' : ''}${this.mconf.socket} (${ffi.strerror(-fd)}); retrying every second`);
      return;
    }
    this.conn = new Conn(new Channel(fd));
  }

  private pollConn(c: Conn): void {
    for (let k = 0; k < 64 && this.conn === c; k++) {
      const r = c.ch.recv();
      if (r.kind === 'again') return;
      if (r.kind === 'closed') {
        this.report(`${this.peerWord()} ${r.why}; link down`);
        this.teardown('', false, false);
        return;
      }
      // the descriptor passed with the message: a handler that keeps it sets own.fd = -1 before anything can fail
      const own = { fd: r.fd };
      try {
        this.handle(c, decodeMsg(r.bytes, r.n), own);
      } catch (e) {
        if (e instanceof ChannelError) throw new PeerError('', `${(e as Error).message}; link down`);
        throw e instanceof PeerError ? e : new PeerError('Invalid message', `${(e as Error).message}`);
      } finally {
        if (own.fd >= 0) ffi.close(own.fd); // a descriptor the message had no use for
      }
    }
  }

  /** Acts on one message; ADD_REGION and ADD_RING take the descriptor that came with it. */
  private handle(c: Conn, m: MemifMsg, own: { fd: number }): void {
    const client = this.mconf.role === 'client';
    const unexpected = () => new PeerError('Unexpected message', `${MSG_TYPE_NAMES[m.type]} was not expected now`);
    switch (m.type) {
      case MEMIF_MSG_TYPE_DISCONNECT:
        this.peerDisconnect(String(m.f.string));
        return;
      case MEMIF_MSG_TYPE_HELLO:
        if (!client || c.helloSeen) throw unexpected();
        this.onHello(c, m.f);
        return;
      case MEMIF_MSG_TYPE_ACK:
        if (!client || !c.helloSeen || c.connected) throw unexpected();
        this.sendNext(c);
        return;
      case MEMIF_MSG_TYPE_CONNECTED:
        if (!client || !c.helloSeen || c.connected || c.outbox.length > 0) throw unexpected();
        c.remoteIfName = String(m.f.if_name);
        this.linkUp(c);
        return;
      case MEMIF_MSG_TYPE_ADD_REGION:
        if (client || c.connected) throw unexpected();
        this.onAddRegion(c, m.f, take(own));
        return;
      case MEMIF_MSG_TYPE_ADD_RING:
        if (client || c.connected) throw unexpected();
        this.onAddRing(c, m.f, take(own));
        return;
      case MEMIF_MSG_TYPE_CONNECT:
        if (client || c.connected) throw unexpected();
        c.remoteIfName = String(m.f.if_name);
        this.linkUp(c);
        c.ch.send(encodeMsg(MEMIF_MSG_TYPE_CONNECTED, { if_name: this.name }));
        return;
      default:
        throw unexpected();
    }
  }

  private peerDisconnect(reason: string): void {
    const hints: Record<string, string> = {
      'Incorrect secret': 'give both sides the same secret=',
      'Secret required': 'give both sides the same secret=',
      'ID not found': `the server has no interface with id=${this.mconf.id}: give both sides the same id=`,
      'Incompatible memif version': 'the peer speaks another memif version (pktio speaks 2.0)',
      'Already connected': `another client already uses id=${this.mconf.id} on this socket`,
    };
    this.report(`${this.peerWord()} disconnected: "${reason}"${hints[reason] ? `: ${hints[reason]}` : ''}`);
    this.teardown('', false, false);
  }

  // ---- server side ------------------------------------------------------------------------------------------
  /** INIT on a new connection for this port (memif_msg_receive_init). Throws PeerError to refuse it. */
  acceptInit(ch: Channel, f: MsgFields): void {
    if (f.version !== MEMIF_VERSION) {
      throw new PeerError('Incompatible memif version', `the client speaks memif ${hexVersion(Number(f.version))}, pktio speaks ${hexVersion(MEMIF_VERSION)}`);
    }
    if (this.conn) throw new PeerError('Already connected', `id=${this.mconf.id} is connected to another client`);
    if (f.mode !== MEMIF_INTERFACE_MODE_ETHERNET) throw new PeerError('Only ethernet mode supported', `the client asked for mode ${f.mode}`);
    if (this.mconf.secret !== '') {
      if (f.secret === '') throw new PeerError('Secret required', 'the client gave no secret: give both sides the same secret=');
      if (f.secret !== this.mconf.secret) throw new PeerError('Incorrect secret', 'the client gave another secret: give both sides the same secret=');
    }
    const c = new Conn(ch);
    c.remoteName = String(f.name);
    c.helloSeen = true;
    this.conn = c;
    ch.send(encodeMsg(MEMIF_MSG_TYPE_ACK));
  }

  /** ADD_REGION: maps the region's memfd into the EAL window (memif_msg_receive_add_region). */
  private onAddRegion(c: Conn, f: MsgFields, fd: number): void {
    if (fd < 0) throw new PeerError('Missing region fd', 'ADD_REGION came without a descriptor');
    const size = Number(f.size);
    try {
      if (f.index !== c.regions.length || c.regions.length >= MAX_REGIONS) {
        throw new PeerError('Invalid region index', `region ${f.index} (pktio takes ${MAX_REGIONS}, in order)`);
      }
      if (!(size > 0) || size > MAX_REGION_BYTES) throw new PeerError('Invalid region size', `region of ${size} bytes (at most ${MAX_REGION_BYTES})`);
      const have = fs.fstatSync(fd).size;
      if (have < size) throw new PeerError('Invalid region size', `region ${f.index} claims ${size} bytes, its file has ${have}`);
      const name = `${this.name}_c${++this.seq}_r${f.index}`;
      const x = extmemMap(name, fd, size);
      this.trackExt(name);
      c.regions.push({ name, off: x.off, len: size });
    } finally {
      ffi.close(fd); // the mapping keeps the memory
    }
    c.ch.send(encodeMsg(MEMIF_MSG_TYPE_ACK));
  }

  /** ADD_RING: where ring `index` of a direction is, and its eventfd (memif_msg_receive_add_ring). */
  private onAddRing(c: Conn, f: MsgFields, fd: number): void {
    if (fd < 0) throw new PeerError('Missing interrupt fd', 'ADD_RING came without an eventfd');
    c.fds.push(fd);
    const isC2s = (Number(f.flags) & MEMIF_MSG_ADD_RING_FLAG_C2S) !== 0;
    const list = isC2s ? c.c2s : c.s2c;
    const mine = isC2s ? this.nbRxq : this.nbTxq;
    const index = Number(f.index);
    if (index !== list.length || index >= mine) {
      throw new PeerError('Invalid ring index', `the client sent ${isC2s ? 'C2S' : 'S2C'} ring ${index}; this port has ` +
        `${mine} ${isC2s ? 'RX' : 'TX'} queues: configure as many queue pairs on both sides`);
    }
    const log2 = Number(f.log2_ring_size);
    if (log2 > ETH_MEMIF_MAX_LOG2_RING_SIZE) {
      throw new PeerError('Invalid ring size', `the client's ring size is 2^${log2}; memif rings have at most 2^${ETH_MEMIF_MAX_LOG2_RING_SIZE} slots (rsize=)`);
    }
    if (log2 !== this.mconf.log2 && index === 0 && isC2s) {
      log('memif').info({ dev: this.name }, `the client's rings have 2^${log2} slots (this port's rsize=${this.mconf.log2}): the client chooses`);
    }
    list.push({ region: Number(f.region), offset: Number(f.offset), log2, fd });
    c.log2 = log2;
    c.ch.send(encodeMsg(MEMIF_MSG_TYPE_ACK));
  }

  // ---- client side ------------------------------------------------------------------------------------------
  /** HELLO: choose rings and ring size, create region 0 and the rings, queue INIT .. CONNECT (memif_msg_receive_hello). */
  private onHello(c: Conn, f: MsgFields): void {
    c.helloSeen = true;
    c.remoteName = String(f.name);
    if (Number(f.min_version) > MEMIF_VERSION || Number(f.max_version) < MEMIF_VERSION) {
      throw new PeerError('Incompatible memif version', `the server speaks memif ${hexVersion(Number(f.min_version))} to ` +
        `${hexVersion(Number(f.max_version))}, pktio speaks ${hexVersion(MEMIF_VERSION)}`);
    }
    const nc = Math.min(Number(f.max_c2s_ring) + 1, this.nbTxq);
    const ns = Math.min(Number(f.max_s2c_ring) + 1, this.nbRxq);
    const log2 = Math.min(Number(f.max_log2_ring_size), this.mconf.log2);
    if (log2 < 1) throw new PeerError('Invalid ring size', `the server allows rings of 2^${log2} slots`);
    c.log2 = log2;
    const l = regionLayout(nc, ns, log2, this.mconf.bsize);
    const name = `${this.name}_c${++this.seq}_r0`;
    const mfd = ffi.check(ffi.memfd_create('memif_region_0', ffi.MFD_CLOEXEC | ffi.MFD_ALLOW_SEALING), 'memfd_create');
    c.fds.push(mfd);
    ffi.check(ffi.ftruncate(mfd, l.size), `ftruncate memif region to ${l.size} bytes`);
    const x = extmemMap(name, mfd, l.size);
    this.trackExt(name);
    c.regions.push({ name, off: x.off, len: l.size });
    const u8 = mem().u8;
    c.outbox.push({ msg: encodeMsg(MEMIF_MSG_TYPE_ADD_REGION, { index: 0, size: l.size }), fd: mfd });
    for (const [type, n, list] of [[MEMIF_RING_C2S, nc, c.c2s], [MEMIF_RING_S2C, ns, c.s2c]] as const) {
      for (let r = 0; r < n; r++) {
        initRing(u8, x.off, l, type, r);
        const efd = ffi.check(ffi.eventfd(0, ffi.EFD_NONBLOCK | ffi.EFD_CLOEXEC), 'eventfd');
        c.fds.push(efd);
        list.push({ region: 0, offset: ringOffset(l, type, r), log2, fd: efd });
        c.outbox.push({ msg: encodeMsg(MEMIF_MSG_TYPE_ADD_RING, {
          flags: type === MEMIF_RING_C2S ? MEMIF_MSG_ADD_RING_FLAG_C2S : 0, index: r, region: 0,
          offset: ringOffset(l, type, r), log2_ring_size: log2, private_hdr_size: 0,
        }), fd: efd });
      }
    }
    c.outbox.push({ msg: encodeMsg(MEMIF_MSG_TYPE_CONNECT, { if_name: this.name }), fd: -1 });
    c.ch.send(encodeMsg(MEMIF_MSG_TYPE_INIT, {
      version: MEMIF_VERSION, id: this.mconf.id, mode: MEMIF_INTERFACE_MODE_ETHERNET, secret: this.mconf.secret, name: APP_NAME,
    }));
  }

  /** The server acknowledged the previous message: send the next (memif_msg_send_from_queue, one per ACK). */
  private sendNext(c: Conn): void {
    const e = c.outbox.shift();
    if (e) c.ch.send(e.msg, e.fd);
  }

  // ---- link ---------------------------------------------------------------------------------------------------
  /**
   * CONNECT (server) / CONNECTED (client): check every ring (inside its region, cookie), reset head and tail, mask
   * interrupts on the rings we receive from (polling), publish each queue's ring and bring the link up
   * (memif_connect).
   */
  private linkUp(c: Conn): void {
    const server = this.mconf.role === 'server';
    const rxRings = server ? c.c2s : c.s2c;
    const txRings = server ? c.s2c : c.c2s;
    const u16 = mem().u16;
    const u32 = mem().u32;
    const abs = (ri: RingInfo, what: string): number => {
      const reg = c.regions[ri.region];
      if (!reg || ri.offset % 8 !== 0 || ri.offset + ringBytes(ri.log2) > reg.len) {
        throw new PeerError('Invalid ring', `${what} lies outside region ${ri.region}`);
      }
      const a = reg.off + ri.offset;
      if (u32[(a + RING_COOKIE) >> 2] !== MEMIF_COOKIE) throw new PeerError('Wrong ring', `${what} has no memif cookie`);
      return a;
    };
    const rx = rxRings.map((ri, q) => abs(ri, `RX ring ${q}`));
    const tx = txRings.map((ri, q) => abs(ri, `TX ring ${q}`));
    for (const a of [...rx, ...tx]) {
      u16[(a + RING_HEAD) >> 1] = 0;
      u16[(a + RING_TAIL) >> 1] = 0;
    }
    for (const a of rx) u16[(a + RING_FLAGS) >> 1] = MEMIF_RING_FLAG_MASK_INT;
    // A client hands the server every S2C buffer now rather than at its first RX burst: a server that forwards
    // what we send before we poll would otherwise find no room and drop (the client owns S2C's head).
    if (!server) rx.forEach((a, q) => { u16[(a + RING_HEAD) >> 1] = 1 << rxRings[q].log2; });
    for (let q = 0; q < this.nbRxq; q++) if (q < rx.length) this.publish(this.blockOf(true, q), rx[q], rxRings[q], -1, c);
    for (let q = 0; q < this.nbTxq; q++) if (q < tx.length) this.publish(this.blockOf(false, q), tx[q], txRings[q], txRings[q].fd, c);
    for (let q = 0; q < this.nbRxq && q < rx.length; q++) mem().f64[(this.blockOf(true, q) >> 3) + QC_INTR_FD] = this.intrEp.length > q ? rxRings[q].fd : -1;
    c.connected = true;
    this.connects++;
    this.setState(true, rx.length, tx.length);
    this.intrJoin(rxRings, true);
    this.lastError = '';
    log('memif').info({ dev: this.name, peer: c.remoteName, peerIf: c.remoteIfName, rings: `${rx.length}/${tx.length}`, log2: c.log2 }, 'memif link up');
  }

  private publish(block: number, ringAbs: number, ri: RingInfo, kickFd: number, c: Conn): void {
    const f = mem().f64;
    const b = block >> 3;
    f[b + QC_RING] = ringAbs;
    f[b + QC_LOG2] = ri.log2;
    f[b + QC_BSIZE] = this.mconf.bsize;
    f[b + QC_KICK_FD] = kickFd;
    f[b + QC_NREG] = c.regions.length;
    c.regions.forEach((r, i) => {
      f[b + QC_REG + 2 * i] = r.off;
      f[b + QC_REG + 2 * i + 1] = r.len;
    });
  }

  /** A new epoch: queues with a ring (the first nRx / nTx) up, or all down. */
  private setState(up: boolean, nRx = 0, nTx = 0): number {
    this.epoch++;
    const i32 = mem().i32;
    for (let q = 0; q < this.nbRxq + this.nbTxq; q++) {
      const rx = q < this.nbRxq;
      const has = rx ? q < nRx : q - this.nbRxq < nTx;
      const w = (this.block >> 2) + q * QC_WORDS * 2;
      if (up) Atomics.store(i32, w + QCI_BAD, 0);
      Atomics.store(i32, w + QCI_STATE, this.epoch * 2 + (up && has ? 1 : 0));
    }
    return this.epoch * 2;
  }

  private checkBad(): void {
    if (!this.conn?.connected) return;
    const i32 = mem().i32;
    for (let q = 0; q < this.nbRxq + this.nbTxq; q++) {
      if (Atomics.load(i32, (this.block >> 2) + q * QC_WORDS * 2 + QCI_BAD) !== 0) {
        throw new PeerError('Invalid descriptor', `the peer wrote a descriptor outside its rings or regions (queue block ${q}); link down`);
      }
    }
  }

  /**
   * Ends the connection: link down now (a new epoch), DISCONNECT with `reason` when there is one, socket closed.
   * Its regions and descriptors are released once the data planes have seen the down state (releaseDue), or
   * at once when `now` (the port is stopping: by ethdev's rules nobody polls it).
   */
  private teardown(reason: string, send: boolean, now: boolean): void {
    const c = this.conn;
    if (!c) return;
    this.conn = null;
    if (send && reason) sendDisconnect(c.ch, reason);
    c.ch.close();
    const down = this.block >= 0 ? this.setState(false) : 0;
    if (c.connected) this.disconnects++;
    if (c.connected) this.intrJoin(this.mconf.role === 'server' ? c.c2s : c.s2c, false);
    const rel: Release = { regions: c.regions.map((r) => r.name), fds: c.fds, down, deadline: now ? 0 : Date.now() + RELEASE_GRACE_MS };
    this.releases.push(rel);
    if (this.mconf.role === 'client') this.nextConnect = Date.now() + RECONNECT_MS;
    if (c.connected) log('memif').info({ dev: this.name }, 'memif link down');
  }

  private acked(down: number): boolean {
    const i32 = mem().i32;
    for (let q = 0; q < this.nbRxq + this.nbTxq; q++) {
      if (Atomics.load(i32, (this.block >> 2) + q * QC_WORDS * 2 + QCI_ACK) < down) return false;
    }
    return true;
  }

  private releaseDue(): void {
    if (this.releases.length === 0) return;
    const t = Date.now();
    this.releases = this.releases.filter((r) => {
      if (t < r.deadline && !this.acked(r.down)) return true;
      freeRelease(r);
      return false;
    });
  }

  private releaseAll(): void {
    for (const r of this.releases) freeRelease(r);
    this.releases = [];
  }
}

const ONE_U64 = new BigUint64Array([1n]);

function freeRelease(r: Release): void {
  for (const n of r.regions) if (extmemLookup(n)) extmemUnmap(n);
  for (const fd of r.fds) ffi.close(fd);
}

/** Takes ownership of a received descriptor. */
function take(own: { fd: number }): number {
  const fd = own.fd;
  own.fd = -1;
  return fd;
}

function hexVersion(v: number): string {
  return `${v >> 8}.${v & 0xff}`;
}

/** Reads the devargs with DPDK's names and defaults (rte_eth_memif.c rte_pmd_memif_probe). */
export function parseMemifArgs(devName: string, args: Map<string, string>): MemifConf {
  const d = `${DRIVER} ${devName}`;
  let role = args.get('role') ?? 'client';
  if (role === 'master') role = 'server';
  if (role === 'slave') role = 'client';
  if (role !== 'server' && role !== 'client') throw new DevArgError(`${d}: role=${role}: expected server or client`);
  if ((args.get('zero-copy') ?? 'no') !== 'no') throw new DevArgError(`${d}: zero-copy=${args.get('zero-copy')}: pktio's memif copies; drop zero-copy= or give no`);
  const secret = argStr(d, args, 'secret') ?? '';
  if (secret.length >= MEMIF_SECRET_SZ) throw new DevArgError(`${d}: secret= has ${secret.length} characters: at most ${MEMIF_SECRET_SZ - 1}`);
  return {
    role,
    id: argInt(d, args, 'id', 0, 0, 0xffffffff),
    socket: argStr(d, args, 'socket') ?? ETH_MEMIF_DEFAULT_SOCKET_FILENAME,
    abstract: argChoice(d, args, 'socket-abstract', 'yes', ['yes', 'no'] as const) === 'yes',
    bsize: argInt(d, args, 'bsize', ETH_MEMIF_DEFAULT_PKT_BUFFER_SIZE, 64, 0xffff),
    log2: argInt(d, args, 'rsize', ETH_MEMIF_DEFAULT_RING_SIZE, 1, ETH_MEMIF_MAX_LOG2_RING_SIZE),
    secret,
    ownerUid: argInt(d, args, 'owner-uid', -1, 0, 0xfffffffe),
    ownerGid: argInt(d, args, 'owner-gid', -1, 0, 0xfffffffe),
  };
}

export const pmd: PmdInfo = {
  name: DRIVER,
  dataPlaneUrl: import.meta.url,
  vdevArgs: ['id', 'role', 'bsize', 'rsize', 'socket', 'socket-abstract', 'owner-uid', 'owner-gid', 'mac', 'zero-copy', 'secret'],
  dataPlane: {
    attachRx: (spec, stats) => new MemifRx(spec, stats),
    attachTx: (spec, stats) => new MemifTx(spec, stats),
  },
  probeVdev(devName, args) {
    const conf = parseMemifArgs(devName, args);
    if (!conf.abstract) {
      const dir = conf.socket.includes('/') ? conf.socket.slice(0, conf.socket.lastIndexOf('/')) || '/' : '.';
      try { fs.accessSync(dir, fs.constants.R_OK | fs.constants.W_OK); } catch {
        throw new DevArgError(`${DRIVER} ${devName}: socket=${conf.socket}: directory ${dir} is missing or not writable`);
      }
    }
    const mac = argMac(`${DRIVER} ${devName}`, args) ?? localMac(0x4d, instances);
    instances++;
    return new MemifPort(devName, mac, conf);
  },
};

registerDataPlane(pmd.name, pmd.dataPlane);
