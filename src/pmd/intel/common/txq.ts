// The TX queue every Intel family shares: legacy or advanced descriptors by the family's codec (codec.ts).
//
// Hot-path rules kept here, with their reasons:
// - one TDT doorbell per burst, a plain store after the descriptors are written (why not Atomics.store: rxq.ts);
// - reclaim in batches of TX_BATCH descriptors, and ask the NIC for a status write-back (RS) only once per batch:
//   on the EOP descriptor of the packet that covers the batch's last slot. Its DD means the whole batch is done,
//   since the NIC completes descriptors in order; that descriptor is remembered per batch (rsAt), because a
//   context descriptor or a packet's middle segment can sit in the last slot and never get a DD;
// - offloads (VLAN insert, IP/L4 checksum) on advanced descriptors through context 0, rewritten only when a
//   packet needs other values than the last one (the context lives in the NIC, its copy in the state words);
// - no allocation: freed handles are gathered in one array per queue.
import { mem } from '../../../eal/memory.js';
import * as ffi from '../../../eal/ffi.js';
import {
  M, mbufBind, pktmbufFreeBulk, TX_VLAN, TX_IP_CKSUM, TX_IPV4, TX_L4_MASK, TX_TCP_CKSUM, TX_UDP_CKSUM, TX_IEEE1588_TMST,
} from '../../../mempool/mbuf.js';
import { QS_PACKETS, QS_BYTES, specNumber, specString, type QueueStats, type TxQueue } from '../../driver.js';
import {
  TX_CODECS, DESC_WORDS, CTX_TUCMD_IPV4, CTX_TUCMD_L4T_TCP, CTX_TUCMD_L4T_UDP, CTX_TUCMD_L4T_RSV, CTX_DTYP,
  CTX_MACLEN_SHIFT, type TxCodecName,
} from './codec.js';
import {
  STATE_BYTES, TXS_TAIL, TXS_CLEAN, TXS_FREE, TXS_CTX_VALID, TXS_CTX_W0, TXS_CTX_TUCMD, TX_BATCH, TX_BATCH_SHIFT,
  observableDoorbells, type IntelTxSpec,
} from './layout.js';

const TWO32 = 4294967296;
const CTX_NEEDED = TX_VLAN | TX_IP_CKSUM | TX_L4_MASK;
/** requests the one-descriptor fast path does not handle: an IEEE 1588 timestamp joins the offloads there, so the
 * fast path keeps its single test */
const SLOW_PATH = CTX_NEEDED | TX_IEEE1588_TMST;

export function checkTxSpec(driver: string, spec: unknown): IntelTxSpec {
  for (const f of ['port', 'queue', 'barLen', 'ring', 'sw', 'nb', 'tdt', 'freeThresh']) specNumber(driver, spec, f);
  for (const f of ['bar', 'codec']) specString(driver, spec, f);
  const s = spec as IntelTxSpec;
  if (!(s.codec in TX_CODECS)) throw new Error(`${driver}: unknown TX descriptor format '${s.codec}'`);
  if (s.nb % TX_BATCH !== 0) throw new Error(`${driver}: TX ring of ${s.nb} descriptors: must be a multiple of ${TX_BATCH}`);
  return s;
}

export class IntelTxQueue implements TxQueue {
  private readonly u32: Uint32Array;
  private readonly u16: Uint16Array;
  private readonly i32: Int32Array;
  private readonly bar: Int32Array;
  private readonly stats: QueueStats;
  /** doorbells through Atomics.store, for tests that watch them (layout.ts) */
  private readonly atomicBell: boolean;
  private readonly ring: number;
  private readonly shadow: number;
  /** i32 index of the per-batch "descriptor whose DD closes the batch" table */
  private readonly rsAt: number;
  private readonly st: number;
  private readonly nb: number;
  private readonly tdt: number;
  private readonly freeThresh: number;
  /** handles of one reclaim batch */
  private readonly done: Uint32Array;
  // the codec, as plain numbers
  private readonly advanced: boolean;
  private readonly CMD: number;
  private readonly CMD_EOP: number;
  private readonly RS: number;
  private readonly VLE: number;
  private readonly DD: number;
  /** PAYLEN as a multiplier (2^shift), 0 for legacy descriptors whose w3 must stay 0 */
  private readonly PAYLEN_MUL: number;
  private readonly IXSM: number;
  private readonly TXSM: number;
  private readonly CTX_USE: number;
  private readonly TSTAMP: number;

  constructor(raw: unknown, stats: QueueStats) {
    const spec = checkTxSpec(String((raw as { driver?: unknown })?.driver ?? 'intel'), raw);
    const r = mem();
    mbufBind(r);
    this.u32 = r.u32;
    this.u16 = r.u16;
    this.i32 = r.i32;
    this.bar = new Int32Array(ffi.view(BigInt(spec.bar), spec.barLen));
    this.stats = stats;
    this.atomicBell = observableDoorbells();
    this.ring = spec.ring >> 2;
    this.shadow = (spec.sw + STATE_BYTES) >> 2;
    this.rsAt = this.shadow + spec.nb;
    this.st = spec.sw >> 2;
    this.nb = spec.nb;
    this.tdt = spec.tdt >> 2;
    this.freeThresh = spec.freeThresh;
    this.done = new Uint32Array(TX_BATCH);
    const c = TX_CODECS[spec.codec as TxCodecName];
    this.advanced = c.advanced;
    this.CMD = (c.DATA | c.IFCS) >>> 0;
    this.CMD_EOP = (c.DATA | c.IFCS | c.EOP) >>> 0;
    this.RS = c.RS;
    this.VLE = c.VLE;
    this.DD = c.DD;
    this.PAYLEN_MUL = c.advanced ? 2 ** c.PAYLEN_SHIFT : 0;
    this.IXSM = c.IXSM;
    this.TXSM = c.TXSM;
    this.CTX_USE = c.CTX_USE;
    this.TSTAMP = c.TSTAMP;
  }

  /** Frees the mbufs of every completed batch; returns the new free count. */
  private reclaim(free: number): number {
    const i32 = this.i32;
    const u32 = this.u32;
    const nb = this.nb;
    const sh = this.shadow;
    const done = this.done;
    let clean = i32[this.st + TXS_CLEAN];
    // only batches wholly in flight (filled since the last reclaim) may be looked at
    while (nb - 1 - free >= TX_BATCH) {
      const e = i32[this.rsAt + (clean >> TX_BATCH_SHIFT)];
      if ((Atomics.load(i32, this.ring + e * DESC_WORDS + 3) & this.DD) === 0) break;
      let c = 0;
      for (let j = 0; j < TX_BATCH; j++) {
        const m = u32[sh + clean + j];
        if (m !== 0) {
          done[c++] = m;
          u32[sh + clean + j] = 0;
        }
      }
      if (c !== 0) pktmbufFreeBulk(done, c, 0);
      clean += TX_BATCH;
      if (clean === nb) clean = 0;
      free += TX_BATCH;
    }
    i32[this.st + TXS_CLEAN] = clean;
    return free;
  }

  txBurst(mbufs: Uint32Array, n: number, from: number): number {
    const i32 = this.i32;
    const st = this.st;
    let free = i32[st + TXS_FREE];
    if (free < this.freeThresh || free < n) free = this.reclaim(free);
    const u32 = this.u32;
    const u16 = this.u16;
    const ring = this.ring;
    const sh = this.shadow;
    const nb = this.nb;
    let tail = i32[st + TXS_TAIL];
    let sent = 0;
    let bytes = 0;
    for (; sent < n; sent++) {
      const m = mbufs[from + sent];
      const segs = u16[(m << 1) + M.H_NB_SEGS];
      const ol = u32[m + M.OL_FLAGS];
      if (segs === 1 && (ol & SLOW_PATH) === 0) {
        // the common case: one descriptor, no offload (out of descriptors: reclaim again before refusing, as below)
        if (free < 1 && (free = this.reclaim(free)) < 1) break;
        const w = ring + tail * DESC_WORDS;
        const len = u16[(m << 1) + M.H_DATA_LEN];
        const iova = u32[m + M.BUF_IOVA_HI] * TWO32 + u32[m + M.BUF_IOVA_LO] + u16[(m << 1) + M.H_DATA_OFF];
        u32[w] = iova >>> 0;
        u32[w + 1] = (iova / TWO32) >>> 0;
        if ((tail & (TX_BATCH - 1)) === TX_BATCH - 1) {
          u32[w + 2] = (len | this.CMD_EOP | this.RS) >>> 0;
          i32[this.rsAt + (tail >> TX_BATCH_SHIFT)] = tail;
        } else {
          u32[w + 2] = (len | this.CMD_EOP) >>> 0;
        }
        u32[w + 3] = len * this.PAYLEN_MUL;
        u32[sh + tail] = m;
        if (++tail === nb) tail = 0;
        free--;
        bytes += len;
        continue;
      }
      const need = segs + (this.advanced && (ol & CTX_NEEDED) !== 0 && this.contextChanged(m, ol) ? 1 : 0);
      // the reclaim above looked at the burst's packet count; a chain takes a descriptor per segment (and maybe a
      // context descriptor), so the burst can run out first: reclaim again before refusing a packet
      if (need > free && (free = this.reclaim(free)) < need) break;
      tail = this.putPacket(m, ol, need > segs, tail);
      free -= need;
      bytes += u32[m + M.PKT_LEN];
    }
    i32[st + TXS_FREE] = free;
    if (sent === 0) return 0;
    i32[st + TXS_TAIL] = tail;
    if (this.atomicBell) Atomics.store(this.bar, this.tdt, tail);
    else this.bar[this.tdt] = tail;
    const s = this.stats;
    s[QS_PACKETS] += sent;
    s[QS_BYTES] += bytes;
    return sent;
  }

  /** vlan_macip_lens of the context a packet needs. */
  private ctxW0(m: number, ol: number): number {
    const lens = this.u32[m + M.TX_OFFLOAD];
    const vlan = (ol & TX_VLAN) !== 0 ? this.u16[(m << 1) + M.H_VLAN_TCI] : 0;
    return ((lens >>> 7) & 0x1ff | ((lens & 0x7f) << CTX_MACLEN_SHIFT) | (vlan << 16)) >>> 0;
  }

  private ctxTucmd(ol: number): number {
    const l4 = ol & TX_L4_MASK;
    const l4t = l4 === TX_TCP_CKSUM ? CTX_TUCMD_L4T_TCP : l4 === TX_UDP_CKSUM ? CTX_TUCMD_L4T_UDP : CTX_TUCMD_L4T_RSV;
    return ((ol & TX_IPV4) !== 0 ? CTX_TUCMD_IPV4 : 0) | l4t | CTX_DTYP;
  }

  private contextChanged(m: number, ol: number): boolean {
    const i32 = this.i32;
    const st = this.st;
    return i32[st + TXS_CTX_VALID] === 0 || i32[st + TXS_CTX_W0] !== (this.ctxW0(m, ol) | 0) || i32[st + TXS_CTX_TUCMD] !== this.ctxTucmd(ol);
  }

  /**
   * Writes one packet that needs more than the fast path: a context descriptor first when `ctx`, then one data
   * descriptor per segment (EOP on the last, where the head handle is kept so the chain is freed with it).
   */
  private putPacket(m: number, ol: number, ctx: boolean, tail: number): number {
    const u32 = this.u32;
    const u16 = this.u16;
    const i32 = this.i32;
    const ring = this.ring;
    const sh = this.shadow;
    const nb = this.nb;
    let covers = -1; // a batch whose last slot this packet fills, waiting for the packet's EOP to carry RS
    let covered = 0;
    if (ctx) {
      const w = ring + tail * DESC_WORDS;
      const w0 = this.ctxW0(m, ol);
      const tucmd = this.ctxTucmd(ol);
      u32[w] = w0;
      u32[w + 1] = 0;
      u32[w + 2] = tucmd;
      u32[w + 3] = ((this.u32[m + M.TX_OFFLOAD] >>> 16) & 0xff) << 8; // L4LEN, IDX 0
      i32[this.st + TXS_CTX_VALID] = 1;
      i32[this.st + TXS_CTX_W0] = w0 | 0;
      i32[this.st + TXS_CTX_TUCMD] = tucmd;
      u32[sh + tail] = 0;
      if ((tail & (TX_BATCH - 1)) === TX_BATCH - 1) { covers = tail >> TX_BATCH_SHIFT; covered = 1; }
      if (++tail === nb) tail = 0;
    }
    let olinfo = u32[m + M.PKT_LEN] * this.PAYLEN_MUL;
    let cmd = this.CMD;
    if (this.advanced && (ol & CTX_NEEDED) !== 0) {
      olinfo |= this.CTX_USE;
      if ((ol & TX_IP_CKSUM) !== 0) olinfo |= this.IXSM;
      if ((ol & TX_L4_MASK) !== 0) olinfo |= this.TXSM;
      if ((ol & TX_VLAN) !== 0) cmd |= this.VLE;
    } else if ((ol & TX_VLAN) !== 0) {
      cmd |= this.VLE; // legacy: the tag rides in the special field of w3
      olinfo = u16[(m << 1) + M.H_VLAN_TCI] << 16;
    }
    if ((ol & TX_IEEE1588_TMST) !== 0) cmd |= this.TSTAMP; // latch the transmit time (advanced formats only)
    for (let s = m; s !== 0;) {
      const nx = u32[s + M.NEXT];
      const w = ring + tail * DESC_WORDS;
      const iova = u32[s + M.BUF_IOVA_HI] * TWO32 + u32[s + M.BUF_IOVA_LO] + u16[(s << 1) + M.H_DATA_OFF];
      u32[w] = iova >>> 0;
      u32[w + 1] = (iova / TWO32) >>> 0;
      if ((tail & (TX_BATCH - 1)) === TX_BATCH - 1) {
        if (covers < 0) covers = tail >> TX_BATCH_SHIFT;
        covered++;
      }
      let c = cmd | u16[(s << 1) + M.H_DATA_LEN];
      if (nx === 0) {
        c |= this.CMD_EOP;
        if (covered !== 0) {
          c |= this.RS;
          const batches = nb >> TX_BATCH_SHIFT;
          for (let b = 0, at = covers; b < covered; b++, at = at + 1 === batches ? 0 : at + 1) i32[this.rsAt + at] = tail;
        }
      }
      u32[w + 2] = c >>> 0;
      u32[w + 3] = olinfo >>> 0;
      u32[sh + tail] = nx === 0 ? m : 0;
      if (++tail === nb) tail = 0;
      s = nx;
    }
    return tail;
  }
}
