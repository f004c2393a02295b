// Capture-file formats of net_pcap: the classic pcap format (libpcap's savefile; draft-ietf-opsawg-pcap) and
// pcapng (draft-ietf-opsawg-pcapng), read; pcap with nanosecond timestamps, written.
//
// Open time (control path, main lcore) checks a file's header with node:fs and may allocate freely: one clear line
// per problem. Run time (CaptureReader, on the polling lcore) walks records in a staging memzone of EAL memory that
// it fills with one pread() per 1 MiB chunk: record headers are read with byte loads and shifts from the region's
// u8 view, the frame stays where it is (the RX queue copies it into mbufs with copyBytes), nothing is allocated per
// packet or per burst. A bad record stops the reader for good: one log line (file, byte offset, reason), one
// ierrors count, and every rxBurst after it returns 0.
import * as fs from 'node:fs';
import { preadAt, errno, strerror } from '../../eal/ffi.js';
import { mem } from '../../eal/memory.js';
import { log } from '../../eal/log.js';
import { QS_ERRORS, type QueueStats } from '../driver.js';

// --- pcap (libpcap savefile) ---
/** magic of a pcap file with microsecond timestamps (as written in the file's byte order) */
export const TCPDUMP_MAGIC = 0xa1b2c3d4;
/** magic of a pcap file with nanosecond timestamps */
export const NSEC_TCPDUMP_MAGIC = 0xa1b23c4d;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
/** struct pcap_file_header: magic, version_major(16), version_minor(16), thiszone, sigfigs, snaplen, linktype */
export const PCAP_FILE_HDR_LEN = 24;
export const PCAP_HDR_SNAPLEN = 16;
export const PCAP_HDR_LINKTYPE = 20;
/** per-record header: ts_sec, ts_usec (or ts_nsec), incl_len, orig_len */
export const PCAP_REC_HDR_LEN = 16;
export const PCAP_REC_INCL_LEN = 8;
/** LinkType field: the link type is its low 16 bits (the upper bits carry FCS information) */
export const LINKTYPE_MASK = 0xffff;
export const LINKTYPE_ETHERNET = 1;
/** libpcap's MAXIMUM_SNAPLEN: no record may be longer (DPDK's ETH_PCAP_MAXIMUM_SNAPLEN) */
export const MAXIMUM_SNAPLEN = 262144;
/** snaplen of the files net_pcap writes (DPDK's RTE_ETH_PCAP_SNAPSHOT_LEN) */
export const PCAP_SNAPSHOT_LEN = 65535;

// --- pcapng ---
/** Section Header Block type (a palindrome: reads the same in both byte orders) */
export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 0x00000001;
/** obsolete Packet Block (16-bit interface id, drops count), still read by libpcap and Wireshark */
export const BT_PB = 0x00000002;
export const BT_SPB = 0x00000003;
export const BT_EPB = 0x00000006;
/** the SHB's Byte-Order Magic, as the writer's byte order stores it */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
export const PCAPNG_VERSION_MAJOR = 1;
/** block type, block total length ... block total length */
export const PCAPNG_BLOCK_MIN = 12;
/** SHB: type, length, byte-order magic, major(16), minor(16), section length(64), length */
export const PCAPNG_SHB_MIN = 28;
/** IDB: type, length, linktype(16), reserved(16), snaplen, length */
export const PCAPNG_IDB_MIN = 20;
/** EPB and PB: type, length, interface id, ts high, ts low, captured length, original length, data, length */
export const PCAPNG_EPB_MIN = 32;
/** SPB: type, length, original length, data, length */
export const PCAPNG_SPB_MIN = 16;
/** interfaces per section this reader keeps (an EPB naming a higher one is corrupt input to us) */
export const PCAPNG_MAX_IFACES = 256;

/**
 * Largest block or record the reader holds whole: a packet of MAXIMUM_SNAPLEN with its header and some options.
 * Longer packet, SHB and IDB blocks are an error; other long blocks are skipped by seeking past them.
 */
export const MAX_BLOCK = MAXIMUM_SNAPLEN + 4096;
/** bytes one pread() brings in */
export const READ_CHUNK = 1 << 20;
/**
 * A reader's state in shared memory, at the start of its zone: where it is in the file and what the current pcapng
 * section says. ethdev makes a new queue object when another lcore polls the queue; it goes on from here. The
 * control half clears ST_VALID at every port start (DPDK reopens its files at start: reading begins again).
 */
export const RX_STATE_LEN = 4096;
/** f64: file offset of the next record to read */
const ST_NEXT = 0;
/** f64: frames returned since the last rewind */
const ST_PASS = 8;
/** i32: ST_MAGIC once a reader has started from this state */
const ST_VALID = 16;
const ST_STATE = 20;
const ST_BE = 24;
const ST_NIF = 28;
/** i32[PCAPNG_MAX_IFACES]: link types of the section's interfaces; then their snaplens (u32) */
const ST_IFLINK = 1024;
const ST_IFSNAP = 2048;
const ST_MAGIC = 0x50434150;
/** staging zone of a reader: its state, room for a partial block moved in front of the chunk, then the chunk */
export const READ_ZONE = RX_STATE_LEN + MAX_BLOCK + READ_CHUNK;

/** Makes the next reader of the zone at region offset `zone` start from the first record (port start, queue setup). */
export function captureRestart(i32: Int32Array, zone: number): void {
  i32[(zone + ST_VALID) >> 2] = 0;
}

export class PcapFileError extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'PcapFileError';
  }
}

/** What open time learns from a capture file's header, and what the reader needs (JSON-able: it goes in a queue spec). */
export interface CaptureInfo {
  path: string;
  size: number;
  pcapng: boolean;
  /** pcap: the file is big-endian (pcapng: each section says its own order) */
  be: boolean;
  nsec: boolean;
  /** pcap: the header's snaplen, 0 or above MAXIMUM_SNAPLEN taken as MAXIMUM_SNAPLEN (as libpcap does) */
  snaplen: number;
  /** first byte the reader parses: after the pcap header, or the pcapng SHB itself */
  start: number;
}

function u32le(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

function u32be(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

const FIX = 'give a pcap or pcapng capture of Ethernet frames (e.g. written by tcpdump -w, or converted with editcap -F pcap)';

/** Checks the classic pcap header of b (the file's first bytes). */
function pcapHeader(path: string, size: number, b: Uint8Array, be: boolean, nsec: boolean): CaptureInfo {
  if (b.length < PCAP_FILE_HDR_LEN) {
    throw new PcapFileError(`${path}: truncated pcap file header (${b.length} of ${PCAP_FILE_HDR_LEN} bytes): ${FIX}`);
  }
  const rd16 = (at: number) => (be ? (b[at] << 8) | b[at + 1] : b[at] | (b[at + 1] << 8));
  const rd32 = be ? u32be : u32le;
  const major = rd16(4);
  const minor = rd16(6);
  if (major !== PCAP_VERSION_MAJOR) {
    throw new PcapFileError(`${path}: pcap version ${major}.${minor}, expected ${PCAP_VERSION_MAJOR}.x: ${FIX}`);
  }
  const link = rd32(b, PCAP_HDR_LINKTYPE) & LINKTYPE_MASK;
  if (link !== LINKTYPE_ETHERNET) {
    throw new PcapFileError(`${path}: link type ${link}, net_pcap reads Ethernet (LINKTYPE_ETHERNET = 1) captures only: ${FIX}`);
  }
  const s = rd32(b, PCAP_HDR_SNAPLEN);
  const snaplen = s === 0 || s > MAXIMUM_SNAPLEN ? MAXIMUM_SNAPLEN : s;
  return { path, size, pcapng: false, be, nsec, snaplen, start: PCAP_FILE_HDR_LEN };
}

/** Checks the first SHB of a pcapng file (the rest of the file is walked by the reader). */
function pcapngHeader(path: string, size: number, b: Uint8Array): CaptureInfo {
  if (b.length < PCAPNG_SHB_MIN) {
    throw new PcapFileError(`${path}: truncated pcapng section header block (${b.length} of ${PCAPNG_SHB_MIN} bytes): ${FIX}`);
  }
  const bom = u32le(b, 8);
  const be = bom !== PCAPNG_BYTE_ORDER_MAGIC;
  if (be && u32be(b, 8) !== PCAPNG_BYTE_ORDER_MAGIC) {
    throw new PcapFileError(`${path}: pcapng byte-order magic 0x${bom.toString(16)} is neither 0x1a2b3c4d nor its byte swap: ${FIX}`);
  }
  const major = be ? (b[12] << 8) | b[13] : b[12] | (b[13] << 8);
  if (major !== PCAPNG_VERSION_MAJOR) throw new PcapFileError(`${path}: pcapng version ${major}, expected ${PCAPNG_VERSION_MAJOR}: ${FIX}`);
  return { path, size, pcapng: true, be, nsec: false, snaplen: MAXIMUM_SNAPLEN, start: 0 };
}

/** Opens a capture for reading and checks its header; returns the descriptor and what the header says. */
export function openCapture(path: string): { fd: number; info: CaptureInfo } {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw new PcapFileError(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): give the path of an existing capture file`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new PcapFileError(`${path}: not a regular file: ${FIX}`);
    if (st.size === 0) throw new PcapFileError(`${path}: empty file (0 bytes): ${FIX}`);
    const b = new Uint8Array(Math.min(st.size, 64));
    const got = fs.readSync(fd, b, 0, b.length, 0);
    const h = b.subarray(0, got);
    if (got < 4) throw new PcapFileError(`${path}: truncated file header (${got} bytes): ${FIX}`);
    const le = u32le(h, 0);
    const bem = u32be(h, 0);
    let info: CaptureInfo;
    if (le === BT_SHB) info = pcapngHeader(path, st.size, h);
    else if (le === TCPDUMP_MAGIC || le === NSEC_TCPDUMP_MAGIC) info = pcapHeader(path, st.size, h, false, le === NSEC_TCPDUMP_MAGIC);
    else if (bem === TCPDUMP_MAGIC || bem === NSEC_TCPDUMP_MAGIC) info = pcapHeader(path, st.size, h, true, bem === NSEC_TCPDUMP_MAGIC);
    else throw new PcapFileError(`${path}: unknown magic 0x${bem.toString(16).padStart(8, '0')} (pcap starts a1b2c3d4 or a1b23c4d, pcapng 0a0d0d0a): ${FIX}`);
    return { fd, info };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/** The 24-byte header of a pcap file written little-endian (nsec: magic 0xa1b23c4d), or big-endian for tests. */
export function pcapFileHeader(o: { nsec: boolean; snaplen: number; linktype?: number; be?: boolean }): Uint8Array {
  const b = new Uint8Array(PCAP_FILE_HDR_LEN);
  const dv = new DataView(b.buffer);
  const le = !o.be;
  dv.setUint32(0, o.nsec ? NSEC_TCPDUMP_MAGIC : TCPDUMP_MAGIC, le);
  dv.setUint16(4, PCAP_VERSION_MAJOR, le);
  dv.setUint16(6, PCAP_VERSION_MINOR, le);
  dv.setUint32(PCAP_HDR_SNAPLEN, o.snaplen, le);
  dv.setUint32(PCAP_HDR_LINKTYPE, o.linktype ?? LINKTYPE_ETHERNET, le);
  return b;
}

/** Creates (truncates) a pcap file for writing and writes its header; returns the descriptor, positioned after it. */
export function createPcap(path: string, snaplen: number): number {
  let fd: number;
  try {
    fd = fs.openSync(path, 'w');
  } catch (e) {
    throw new PcapFileError(`${path}: cannot create (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): give a writable path`);
  }
  try {
    fs.writeSync(fd, pcapFileHeader({ nsec: true, snaplen }));
  } catch (e) {
    fs.closeSync(fd);
    throw new PcapFileError(`${path}: cannot write the pcap header (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): give a path on a writable file system with room`);
  }
  return fd;
}

/** struct timespec: tv_sec and tv_nsec, 64-bit words (x86-64), little-endian; a pcap record keeps their low halves */
export const TIMESPEC_LEN = 16;

/**
 * Stores a little-endian pcap record header at region offset `at`: ts_sec and ts_nsec copied from the struct
 * timespec at region offset `ts` (clock_gettime's answer), incl_len, orig_len. Small integers only: nothing boxed.
 */
export function putRecordHeader(u8: Uint8Array, at: number, ts: number, incl: number, orig: number): void {
  u8[at] = u8[ts];
  u8[at + 1] = u8[ts + 1];
  u8[at + 2] = u8[ts + 2];
  u8[at + 3] = u8[ts + 3];
  u8[at + 4] = u8[ts + 8];
  u8[at + 5] = u8[ts + 9];
  u8[at + 6] = u8[ts + 10];
  u8[at + 7] = u8[ts + 11];
  put32le(u8, at + 8, incl);
  put32le(u8, at + 12, orig);
}

function put32le(u8: Uint8Array, at: number, v: number): void {
  u8[at] = v;
  u8[at + 1] = v >>> 8;
  u8[at + 2] = v >>> 16;
  u8[at + 3] = v >>> 24;
}

const RUNNING = 0;
const AT_EOF = 1;
const FAILED = 2;

/**
 * Walks the records of one capture file in a staging zone at region offset `zone` (READ_ZONE bytes; `va` its native
 * address). Zone layout: the shared state (RX_STATE_LEN), then from `base`: [0, MAX_BLOCK) takes the unread tail of
 * the last chunk, [MAX_BLOCK, ...) the chunk pread() fills, always at the same address (one BigInt, made once).
 * `pos`/`end` are relative to `base`; the file offset of base byte 0 is `zoneFileOff`. next() returns the region
 * offset of the next frame (frameLen bytes) or -1; commit() records the position in the shared state.
 */
export class CaptureReader {
  private readonly u8: Uint8Array;
  private readonly fd: number;
  private readonly info: CaptureInfo;
  private readonly base: number;
  private readonly chunkVa: bigint;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  /** region offset of the shared state */
  private readonly st: number;
  private readonly stats: QueueStats;
  private readonly infinite: boolean;
  // the header's facts the record loop reads, as fields of this class (info is parsed JSON)
  private readonly pcapng: boolean;
  private readonly snaplen: number;
  private readonly size: number;
  private be: boolean;
  private pos = 0;
  private end = 0;
  private zoneFileOff = 0;
  private state = RUNNING;
  /** pcapng: link type and snaplen of each interface of the current section (views of the shared state) */
  private readonly ifLink: Int32Array;
  private readonly ifSnap: Uint32Array;
  private nIf = 0;
  /** position of the record next() returned last, taken after any refill (unread() goes back to it) */
  private recPos = 0;
  /** frames returned since the last rewind (infinite_rx stops on a file without any) */
  private pass = 0;
  /** length of the frame next() returned */
  frameLen = 0;
  /** true once next() has nothing more to give (the end of the file without infinite_rx, or bad input) */
  done = false;
  /** the line logged when the reader stopped on bad input (null while it reads, or after a clean end) */
  error: string | null = null;

  constructor(fd: number, info: CaptureInfo, zone: number, va: bigint, stats: QueueStats, infinite: boolean) {
    const r = mem();
    this.u8 = r.u8;
    this.i32 = r.i32;
    this.f64 = r.f64;
    this.fd = fd;
    this.info = info;
    this.st = zone;
    this.base = zone + RX_STATE_LEN;
    this.chunkVa = va + BigInt(RX_STATE_LEN + MAX_BLOCK);
    this.ifLink = r.i32.subarray((zone + ST_IFLINK) >> 2, (zone + ST_IFLINK) / 4 + PCAPNG_MAX_IFACES);
    this.ifSnap = r.u32.subarray((zone + ST_IFSNAP) >> 2, (zone + ST_IFSNAP) / 4 + PCAPNG_MAX_IFACES);
    this.stats = stats;
    this.infinite = infinite;
    this.pcapng = info.pcapng;
    this.snaplen = info.snaplen;
    this.size = info.size;
    this.be = info.be;
    this.resume();
  }

  /** Goes on where the last reader of this zone stopped, or starts from the first record. */
  private resume(): void {
    const i32 = this.i32;
    const st = this.st;
    if (i32[(st + ST_VALID) >> 2] !== ST_MAGIC) {
      this.seek(this.info.start);
      this.saveSection();
      i32[(st + ST_STATE) >> 2] = RUNNING;
      i32[(st + ST_VALID) >> 2] = ST_MAGIC;
      this.commit();
      return;
    }
    this.seek(this.f64[(st + ST_NEXT) >> 3]);
    this.pass = this.f64[(st + ST_PASS) >> 3];
    this.be = i32[(st + ST_BE) >> 2] !== 0;
    this.nIf = i32[(st + ST_NIF) >> 2];
    this.state = i32[(st + ST_STATE) >> 2];
    this.done = this.state !== RUNNING;
  }

  /** Records where the next record starts (rxBurst calls it once per burst: two plain stores). */
  commit(): void {
    this.f64[(this.st + ST_NEXT) >> 3] = this.zoneFileOff + this.pos;
    this.f64[(this.st + ST_PASS) >> 3] = this.pass;
  }

  /** The section's byte order and interface count into the shared state (the interface table lives there). */
  private saveSection(): void {
    this.i32[(this.st + ST_BE) >> 2] = this.be ? 1 : 0;
    this.i32[(this.st + ST_NIF) >> 2] = this.nIf;
  }

  /** Region offset of the next frame, or -1 at the end of the file (or after bad input). */
  next(): number {
    for (;;) {
      const at = this.pcapng ? this.nextBlock() : this.nextRecord();
      if (at >= 0) {
        this.pass++;
        return at;
      }
      // end of file: replay from the first record (infinite_rx), unless a whole pass found nothing
      if (this.state !== AT_EOF || !this.infinite || this.pass === 0) {
        this.done = true;
        this.i32[(this.st + ST_STATE) >> 2] = this.state;
        return -1;
      }
      this.rewind();
    }
  }

  /** Puts back the frame next() returned (the caller found no mbuf for it). */
  unread(): void {
    this.pos = this.recPos;
    this.pass--;
  }

  /** true once the reader stopped on bad input */
  get failed(): boolean { return this.state === FAILED; }

  private rd32(at: number): number {
    const u8 = this.u8;
    return this.be
      ? ((u8[at] << 24) | (u8[at + 1] << 16) | (u8[at + 2] << 8) | u8[at + 3]) >>> 0
      : (u8[at] | (u8[at + 1] << 8) | (u8[at + 2] << 16) | (u8[at + 3] << 24)) >>> 0;
  }

  private rd16(at: number): number {
    const u8 = this.u8;
    return this.be ? (u8[at] << 8) | u8[at + 1] : u8[at] | (u8[at + 1] << 8);
  }

  /** One pcap record: header, length checks, frame. */
  private nextRecord(): number {
    if (this.state !== RUNNING || !this.ensure(PCAP_REC_HDR_LEN, true)) return -1;
    const incl = this.rd32(this.base + this.pos + PCAP_REC_INCL_LEN);
    if (incl > this.snaplen) return this.fail(this.pos, `record length ${incl} is longer than the file's snaplen ${this.snaplen}`);
    if (!this.ensure(PCAP_REC_HDR_LEN + incl, false)) return -1;
    const at = this.base + this.pos + PCAP_REC_HDR_LEN;
    this.recPos = this.pos;
    this.frameLen = incl;
    this.pos += PCAP_REC_HDR_LEN + incl;
    return at;
  }

  /** pcapng: blocks up to the next packet (SHB and IDB update the section's state, unknown blocks are skipped). */
  private nextBlock(): number {
    while (this.state === RUNNING) {
      if (!this.ensure(8, true)) return -1;
      // (ensure() may move the staged bytes: block offsets are taken after it)
      const type = this.rd32(this.base + this.pos);
      if (type === BT_SHB && !this.sectionOrder()) return -1;
      const len = this.rd32(this.base + this.pos + 4);
      if (len < PCAPNG_BLOCK_MIN || (len & 3) !== 0) return this.fail(this.pos, `block length ${len} (type ${type}) is not a multiple of 4 of at least 12`);
      if (len > MAX_BLOCK) {
        if (type === BT_SHB || type === BT_IDB || type === BT_EPB || type === BT_SPB || type === BT_PB) {
          return this.fail(this.pos, `block of type ${type} is ${len} bytes long, more than a ${MAXIMUM_SNAPLEN}-byte packet needs`);
        }
        this.skip(len);
        continue;
      }
      if (!this.ensure(len, false)) return -1;
      const at = this.base + this.pos;
      if (this.rd32(at + len - 4) !== len) return this.fail(this.pos, `block of type ${type}: trailing length ${this.rd32(at + len - 4)} differs from leading length ${len}`);
      const frame = this.block(type, at, len);
      if (frame !== 0) return frame;
    }
    return -1;
  }

  /** Handles one whole block at region offset `at`; returns the frame's region offset for a packet block, else 0. */
  private block(type: number, at: number, len: number): number {
    const pos = this.pos;
    if (type === BT_EPB || type === BT_PB) {
      if (len < PCAPNG_EPB_MIN) return this.fail(pos, `packet block of ${len} bytes, shorter than ${PCAPNG_EPB_MIN}`);
      const ifId = type === BT_EPB ? this.rd32(at + 8) : this.rd16(at + 8);
      const cap = this.rd32(at + 20);
      if (cap > len - PCAPNG_EPB_MIN) return this.fail(pos, `captured length ${cap} does not fit its ${len}-byte block`);
      return this.packet(pos, ifId, cap, at + 28, len);
    }
    if (type === BT_SPB) {
      if (len < PCAPNG_SPB_MIN) return this.fail(pos, `simple packet block of ${len} bytes, shorter than ${PCAPNG_SPB_MIN}`);
      const orig = this.rd32(at + 8);
      let cap = len - PCAPNG_SPB_MIN;
      if (orig < cap) cap = orig;
      if (this.nIf > 0 && this.ifSnap[0] !== 0 && this.ifSnap[0] < cap) cap = this.ifSnap[0];
      return this.packet(pos, 0, cap, at + 12, len);
    }
    if (type === BT_IDB) {
      if (len < PCAPNG_IDB_MIN) return this.fail(pos, `interface description block of ${len} bytes, shorter than ${PCAPNG_IDB_MIN}`);
      if (this.nIf === PCAPNG_MAX_IFACES) return this.fail(pos, `more than ${PCAPNG_MAX_IFACES} interfaces in one section`);
      this.ifLink[this.nIf] = this.rd16(at + 8);
      this.ifSnap[this.nIf] = this.rd32(at + 12);
      this.nIf++;
      this.saveSection();
    } else if (type === BT_SHB) {
      if (len < PCAPNG_SHB_MIN) return this.fail(pos, `section header block of ${len} bytes, shorter than ${PCAPNG_SHB_MIN}`);
      if (this.rd16(at + 12) !== PCAPNG_VERSION_MAJOR) return this.fail(pos, `section of pcapng version ${this.rd16(at + 12)}, expected ${PCAPNG_VERSION_MAJOR}`);
      this.nIf = 0;
      this.saveSection();
    }
    this.pos += len;
    return 0;
  }

  /** A packet of interface ifId whose cap bytes are at region offset `data`: checks, then steps past its block. */
  private packet(pos: number, ifId: number, cap: number, data: number, len: number): number {
    if (ifId >= this.nIf) return this.fail(pos, `packet of interface ${ifId}, but the section describes ${this.nIf} interface(s)`);
    if (this.ifLink[ifId] !== LINKTYPE_ETHERNET) return this.fail(pos, `packet of interface ${ifId} whose link type is ${this.ifLink[ifId]}, not Ethernet (1)`);
    const snap = this.ifSnap[ifId];
    if ((snap !== 0 && cap > snap) || cap > MAXIMUM_SNAPLEN) return this.fail(pos, `captured length ${cap} is longer than the interface's snaplen ${snap || MAXIMUM_SNAPLEN}`);
    this.frameLen = cap;
    this.recPos = pos;
    this.pos += len;
    return data;
  }

  /** An SHB starts a section in its own byte order: take it from the byte-order magic. */
  private sectionOrder(): boolean {
    if (!this.ensure(12, false)) return false;
    const at = this.base + this.pos;
    const u8 = this.u8;
    const le = (u8[at + 8] | (u8[at + 9] << 8) | (u8[at + 10] << 16) | (u8[at + 11] << 24)) >>> 0;
    const be = ((u8[at + 8] << 24) | (u8[at + 9] << 16) | (u8[at + 10] << 8) | u8[at + 11]) >>> 0;
    if (le !== PCAPNG_BYTE_ORDER_MAGIC && be !== PCAPNG_BYTE_ORDER_MAGIC) {
      this.fail(this.pos, `section header block with byte-order magic 0x${le.toString(16)}`);
      return false;
    }
    this.be = le !== PCAPNG_BYTE_ORDER_MAGIC;
    this.saveSection();
    return true;
  }

  /**
   * Makes `need` bytes from pos available, reading the next chunk when they are not (the unread tail first moves
   * in front of the chunk). false at the end of the file: a clean end when `header` and no byte is left, else a
   * truncated record (the reader stops with an error). Called once per record; reads once per chunk.
   */
  private ensure(need: number, header: boolean): boolean {
    if (this.end - this.pos >= need) return true;
    const left = this.size - (this.zoneFileOff + this.end);
    if (left > 0) {
      const tail = this.end - this.pos;
      const b = this.base;
      if (tail > 0) this.u8.copyWithin(b + MAX_BLOCK - tail, b + this.pos, b + this.end);
      this.zoneFileOff += this.pos - (MAX_BLOCK - tail);
      this.pos = MAX_BLOCK - tail;
      this.end = MAX_BLOCK;
      const got = preadAt(this.fd, this.chunkVa, left < READ_CHUNK ? left : READ_CHUNK, this.zoneFileOff + MAX_BLOCK);
      if (got < 0) {
        this.fail(this.pos, `read error: ${strerror(errno())}`);
        return false;
      }
      this.end = MAX_BLOCK + got;
      if (this.end - this.pos >= need) return true;
    }
    if (header && this.end === this.pos) {
      this.state = AT_EOF;
      return false;
    }
    this.fail(this.pos, `truncated ${header ? 'record header' : 'record'}: ${this.end - this.pos} of ${need} bytes before the end of the file`);
    return false;
  }

  /** Steps over a block too long to hold (pcapng blocks this reader does not use). */
  private skip(len: number): void {
    const off = this.zoneFileOff + this.pos + len;
    if (off > this.info.size) {
      this.fail(this.pos, `truncated block: ${len} bytes long, the file ends ${this.info.size - (this.zoneFileOff + this.pos)} bytes after its start`);
      return;
    }
    this.seek(off);
  }

  /** Forgets the staged bytes; the next ensure() reads from file offset `off`. */
  private seek(off: number): void {
    this.pos = MAX_BLOCK;
    this.end = MAX_BLOCK;
    this.zoneFileOff = off - MAX_BLOCK;
  }

  /** Back to the first record (infinite_rx). A file that fit in one chunk is not read again. */
  private rewind(): void {
    this.state = RUNNING;
    this.pass = 0;
    this.be = this.info.be;
    this.nIf = 0;
    this.saveSection();
    const whole = this.zoneFileOff + MAX_BLOCK === this.info.start && this.end - MAX_BLOCK === this.info.size - this.info.start;
    if (whole) this.pos = MAX_BLOCK;
    else this.seek(this.info.start);
  }

  /** Stops the reader on bad input at zone position pos: one ierrors count, one log line. Cold path. */
  private fail(pos: number, reason: string): number {
    this.state = FAILED;
    this.i32[(this.st + ST_STATE) >> 2] = FAILED;
    this.stats[QS_ERRORS]++;
    this.error = `${this.info.path}: ${reason}, at byte ${this.zoneFileOff + pos}; reading stops here (the packets before it were received)`;
    log('pcap').error(this.error);
    return -1;
  }
}
