// The TX virtqueues of net_virtio: split and packed, one class each so every call site stays monomorphic.
//
// Every packet is preceded by the 12-byte net header [5.1.6]. When the first segment has 12 bytes of headroom and
// is not shared, the header is written into that headroom and one descriptor covers header and data (VERSION_1
// implies any descriptor layout; DPDK's "can_push"); otherwise the header goes into this buffer ID's slot of the
// queue's header area and gets a descriptor of its own. Each further segment is one more descriptor of the chain.
//
// Hot-path rules kept here, with their reasons:
// - no allocation: completed mbufs are gathered in one array per queue, buffer IDs live in FIFOs in shared memory;
// - the header written with typed-array stores (three u32 when 4-byte aligned, bytes otherwise);
// - a burst is published with ONE store: the avail index (split) or the flags of the burst's first descriptor,
//   written last (packed), as an Atomics.store: a full barrier, so the event-suppression fields read right after
//   it cannot be read early (the lost-notification race of [2.7.10] / [2.8.21]);
// - at most one notification per burst, and only when the device asked for it (EVENT_IDX's avail_event, the
//   packed device event structure, or NO_NOTIFY clear): QEMU traps every notify write;
// - completed buffers are reclaimed once fewer than freeThresh descriptors are free (DPDK's tx_free_thresh);
//   under VIRTIO_F_IN_ORDER the device may report a batch with one used entry, so IDs are then taken from the
//   in-flight FIFO rather than from each entry.
import {
  M, pktmbufFreeBulk, TX_L4_MASK, TX_TCP_CKSUM, TX_UDP_CKSUM,
} from '../../mempool/mbuf.js';
import { QS_PACKETS, QS_BYTES, specNumber, type QueueStats, type TxQueue } from '../driver.js';
import {
  NET_HDR_LEN, VIRTIO_NET_HDR_F_NEEDS_CSUM, TCP_CSUM_OFFSET, UDP_CSUM_OFFSET, VIRTQ_DESC, VIRTQ_DESC_F_NEXT,
  PVIRTQ_DESC, availBits, isUsed,
} from './spec.js';
import { VQS_AVAIL, VQS_USED, VQS_AVAIL_WRAP, VQS_USED_WRAP, VQS_FREE, TX_HDR_SLOT, type VirtioTxSpec } from './layout.js';
import { Virtqueue, checkQueueSpec, TWO32 } from './vq.js';

const DEFAULT_FREE_THRESH = 32;

function checkTxSpec(raw: unknown): VirtioTxSpec {
  checkQueueSpec(raw);
  for (const f of ['hdrIova', 'hdrOff']) specNumber('net_virtio', raw, f);
  return raw as VirtioTxSpec;
}

abstract class VirtioTxQueue extends Virtqueue implements TxQueue {
  /** IOVA of header slot 0 as u32 halves, and its byte offset in the region */
  protected readonly hdrLo: number;
  protected readonly hdrHi: number;
  protected readonly hdrOff: number;
  protected readonly csum: boolean;
  protected readonly freeThresh: number;
  /** handles of completed packets, freed in one call */
  protected readonly done: Uint32Array;

  constructor(s: VirtioTxSpec, stats: QueueStats) {
    super(s, stats);
    this.hdrLo = s.hdrIova % TWO32;
    this.hdrHi = Math.floor(s.hdrIova / TWO32);
    this.hdrOff = s.hdrOff;
    this.csum = s.csum === true;
    this.freeThresh = Math.min(DEFAULT_FREE_THRESH, s.nb >> 2);
    this.done = new Uint32Array(s.nb);
  }

  abstract txBurst(mbufs: Uint32Array, n: number, from: number): number;

  /** Can the header go into the first segment's headroom? */
  protected pushable(m: number): boolean {
    return this.u16[(m << 1) + M.H_DATA_OFF] >= NET_HDR_LEN && this.u16[(m << 1) + M.H_REFCNT] === 1;
  }

  /**
   * Writes the net header of packet m at byte offset h: all zero but the checksum request (NEEDS_CSUM with
   * csum_start = l2 + l3 length and the offset of the TCP / UDP checksum field) when the packet asks for one and
   * VIRTIO_NET_F_CSUM was negotiated. The device sums from csum_start to the end into that field, so the field must
   * hold the pseudo-header sum, as DPDK's TX checksum offload asks of applications for every NIC [5.1.6.2].
   * num_buffers is 0 on TX.
   */
  protected writeHdr(h: number, m: number): void {
    const ol = this.u32[m + M.OL_FLAGS] & TX_L4_MASK;
    let w0 = 0;
    let w1 = 0;
    let w2 = 0;
    if (this.csum && (ol === TX_TCP_CKSUM || ol === TX_UDP_CKSUM)) {
      const lens = this.u32[m + M.TX_OFFLOAD];
      w0 = VIRTIO_NET_HDR_F_NEEDS_CSUM;
      w1 = ((lens & 0x7f) + ((lens >>> 7) & 0x1ff)) << 16; // csum_start in the high half of bytes 4..7
      w2 = ol === TX_TCP_CKSUM ? TCP_CSUM_OFFSET : UDP_CSUM_OFFSET;
    }
    if ((h & 3) === 0) {
      const u32 = this.u32;
      u32[h >> 2] = w0;
      u32[(h >> 2) + 1] = w1;
      u32[(h >> 2) + 2] = w2;
      return;
    }
    const u8 = this.u8;
    for (let i = 0; i < NET_HDR_LEN; i++) u8[h + i] = 0;
    u8[h] = w0;
    u8[h + 6] = (w1 >>> 16) & 0xff;
    u8[h + 7] = w1 >>> 24;
    u8[h + 8] = w2;
  }

  /** Writes the address of header slot `id` into the descriptor at u32 index w (halves and carry as putBuf). */
  protected putSlot(w: number, id: number): void {
    const lo = this.hdrLo + id * TX_HDR_SLOT;
    this.u32[w] = lo < TWO32 ? lo : lo - TWO32;
    this.u32[w + 1] = lo < TWO32 ? this.hdrHi : this.hdrHi + 1;
  }

  /** Byte offset in the region of a segment's data. */
  protected segOff(s: number): number {
    return this.u32[s + M.BUF_OFF] + this.u16[(s << 1) + M.H_DATA_OFF];
  }

  /** Descriptors packet m needs: one per segment, one more when its header cannot be pushed. */
  protected descsFor(m: number): number {
    return this.u16[(m << 1) + M.H_NB_SEGS] + (this.pushable(m) ? 0 : 1);
  }

  /** Frees the c packets gathered in `done`. */
  protected release(c: number): void {
    if (c !== 0) pktmbufFreeBulk(this.done, c, 0);
  }
}

/** Split virtqueue TX: buffer ID = head descriptor index; chains linked through `next`. */
export class SplitTxQueue extends VirtioTxQueue {
  constructor(raw: unknown, stats: QueueStats) {
    const s = checkTxSpec(raw);
    super(s, stats);
  }

  /** Gives back the descriptors and mbufs of every completed buffer; returns the new free count. */
  private reclaim(free: number): number {
    const u32 = this.u32;
    const u16 = this.u16;
    const st = this.st;
    const now = Atomics.load(u16, this.usedIdx);
    let used = this.i32[st + VQS_USED];
    let c = 0;
    while (used !== now) {
      const head = this.inOrder ? this.flyPop() : u32[this.usedRing + (used & this.mask) * 2];
      used = (used + 1) & 0xffff;
      this.done[c++] = u32[this.mbufOf + head];
      u32[this.mbufOf + head] = 0;
      const nd = u32[this.ndescOf + head];
      let id = head;
      for (let i = 0; i < nd; i++) {
        this.putId(id);
        id = u16[(this.desc + id * VIRTQ_DESC.size + VIRTQ_DESC.next) >> 1];
      }
      free += nd;
    }
    this.i32[st + VQS_USED] = used;
    this.release(c);
    return free;
  }

  txBurst(mbufs: Uint32Array, n: number, from: number): number {
    const i32 = this.i32;
    const st = this.st;
    let free = i32[st + VQS_FREE];
    if (free < this.freeThresh || free < n) free = this.reclaim(free);
    const old = i32[st + VQS_AVAIL];
    let avail = old;
    let sent = 0;
    let bytes = 0;
    for (; sent < n; sent++) {
      const m = mbufs[from + sent];
      const need = this.descsFor(m);
      // the reclaim above looked at the burst's packet count; a chain takes a descriptor per segment (and one for
      // a header that cannot be pushed), so reclaim again before refusing it
      if (need > free && (free = this.reclaim(free)) < need) break;
      const head = this.putChain(m, need);
      this.u16[this.availRing + (avail & this.mask)] = head;
      avail = (avail + 1) & 0xffff;
      free -= need;
      bytes += this.u32[m + M.PKT_LEN];
    }
    i32[st + VQS_FREE] = free;
    if (sent === 0) return 0;
    i32[st + VQS_AVAIL] = avail;
    this.splitPublish(avail, old);
    this.stats[QS_PACKETS] += sent;
    this.stats[QS_BYTES] += bytes;
    return sent;
  }

  /** Writes packet m as a chain of `need` descriptors from the free IDs; returns the head's index. */
  private putChain(m: number, need: number): number {
    const u32 = this.u32;
    const u16 = this.u16;
    const head = this.takeId();
    let id = head;
    let w = (this.desc + id * VIRTQ_DESC.size) >> 2;
    let s = m;
    let left = need;
    if (need === u16[(m << 1) + M.H_NB_SEGS]) {
      // header pushed into the headroom: the first descriptor covers it and segment 0
      this.writeHdr(this.segOff(m) - NET_HDR_LEN, m);
      this.putBuf(w, m, u16[(m << 1) + M.H_DATA_OFF] - NET_HDR_LEN);
      u32[w + 2] = u16[(m << 1) + M.H_DATA_LEN] + NET_HDR_LEN;
      s = u32[m + M.NEXT];
    } else {
      this.writeHdr(this.hdrOff + head * TX_HDR_SLOT, m);
      this.putSlot(w, head);
      u32[w + 2] = NET_HDR_LEN;
    }
    while (--left !== 0) {
      const nx = this.takeId();
      u32[w + 3] = VIRTQ_DESC_F_NEXT | (nx << 16); // flags, next
      id = nx;
      w = (this.desc + id * VIRTQ_DESC.size) >> 2;
      this.putBuf(w, s, u16[(s << 1) + M.H_DATA_OFF]);
      u32[w + 2] = u16[(s << 1) + M.H_DATA_LEN];
      s = u32[s + M.NEXT];
    }
    u32[w + 3] = 0;
    u32[this.mbufOf + head] = m;
    u32[this.ndescOf + head] = need;
    if (this.inOrder) this.flyPush(head);
    return head;
  }
}

/** Packed virtqueue TX: descriptors in ring order, one buffer ID per packet from the free-ID FIFO. */
export class PackedTxQueue extends VirtioTxQueue {
  constructor(raw: unknown, stats: QueueStats) {
    super(checkTxSpec(raw), stats);
  }

  /** Gives back every buffer the device marked used; returns the new free count. */
  private reclaim(free: number): number {
    const u16 = this.u16;
    const u32 = this.u32;
    const i32 = this.i32;
    const st = this.st;
    const nb = this.nb;
    let pos = i32[st + VQS_USED];
    let wrap = i32[st + VQS_USED_WRAP];
    let c = 0;
    for (;;) {
      const d = this.desc + pos * PVIRTQ_DESC.size;
      const f = Atomics.load(u16, (d + PVIRTQ_DESC.flags) >> 1);
      if (!isUsed(f, wrap)) break;
      const id = u16[(d + PVIRTQ_DESC.id) >> 1];
      // under IN_ORDER one used descriptor may stand for every buffer up to `id`
      let x;
      do {
        x = this.inOrder ? this.flyPop() : id;
        const nd = u32[this.ndescOf + x];
        this.done[c++] = u32[this.mbufOf + x];
        u32[this.mbufOf + x] = 0;
        this.putId(x);
        free += nd;
        pos += nd;
        if (pos >= nb) { pos -= nb; wrap ^= 1; }
      } while (x !== id && free < nb); // a bad ID from the device cannot run the FIFO dry
    }
    i32[st + VQS_USED] = pos;
    i32[st + VQS_USED_WRAP] = wrap;
    this.release(c);
    return free;
  }

  txBurst(mbufs: Uint32Array, n: number, from: number): number {
    const i32 = this.i32;
    const st = this.st;
    let free = i32[st + VQS_FREE];
    if (free < this.freeThresh || free < n) free = this.reclaim(free);
    const old = i32[st + VQS_AVAIL];
    let sent = 0;
    let bytes = 0;
    let added = 0;
    let firstFlags = 0;
    for (; sent < n; sent++) {
      const m = mbufs[from + sent];
      const need = this.descsFor(m);
      // the reclaim above looked at the burst's packet count; a chain takes a descriptor per segment (and one for
      // a header that cannot be pushed), so reclaim again before refusing it
      if (need > free && (free = this.reclaim(free)) < need) break;
      const fl = this.putChain(m, need, sent === 0);
      if (sent === 0) firstFlags = fl;
      free -= need;
      added += need;
      bytes += this.u32[m + M.PKT_LEN];
    }
    i32[st + VQS_FREE] = free;
    if (sent === 0) return 0;
    this.packedPublish(old, firstFlags, i32[st + VQS_AVAIL], i32[st + VQS_AVAIL_WRAP], added);
    this.stats[QS_PACKETS] += sent;
    this.stats[QS_BYTES] += bytes;
    return sent;
  }

  /**
   * Writes packet m as `need` descriptors from the avail position on, with their flags, except the first one's
   * when the packet opens the burst (the caller writes that one last). Returns the first descriptor's flags.
   */
  private putChain(m: number, need: number, opens: boolean): number {
    const u32 = this.u32;
    const u16 = this.u16;
    const i32 = this.i32;
    const st = this.st;
    const id = this.takeId();
    let pos = i32[st + VQS_AVAIL];
    let wrap = i32[st + VQS_AVAIL_WRAP];
    let d = this.desc + pos * PVIRTQ_DESC.size;
    let s = m;
    if (need === u16[(m << 1) + M.H_NB_SEGS]) {
      // header pushed into the headroom: the first descriptor covers it and segment 0
      this.writeHdr(this.segOff(m) - NET_HDR_LEN, m);
      this.putBuf(d >> 2, m, u16[(m << 1) + M.H_DATA_OFF] - NET_HDR_LEN);
      u32[(d + PVIRTQ_DESC.len) >> 2] = u16[(m << 1) + M.H_DATA_LEN] + NET_HDR_LEN;
      s = u32[m + M.NEXT];
    } else {
      this.writeHdr(this.hdrOff + id * TX_HDR_SLOT, m);
      this.putSlot(d >> 2, id);
      u32[(d + PVIRTQ_DESC.len) >> 2] = NET_HDR_LEN;
    }
    const firstFlags = availBits(wrap) | (need > 1 ? VIRTQ_DESC_F_NEXT : 0);
    u16[(d + PVIRTQ_DESC.id) >> 1] = id;
    if (!opens) u16[(d + PVIRTQ_DESC.flags) >> 1] = firstFlags;
    for (let i = 1; i < need; i++) {
      if (++pos === this.nb) { pos = 0; wrap ^= 1; }
      d = this.desc + pos * PVIRTQ_DESC.size;
      this.putBuf(d >> 2, s, u16[(s << 1) + M.H_DATA_OFF]);
      u32[(d + PVIRTQ_DESC.len) >> 2] = u16[(s << 1) + M.H_DATA_LEN];
      u16[(d + PVIRTQ_DESC.id) >> 1] = id;
      u16[(d + PVIRTQ_DESC.flags) >> 1] = availBits(wrap) | (i + 1 < need ? VIRTQ_DESC_F_NEXT : 0);
      s = u32[s + M.NEXT];
    }
    if (++pos === this.nb) { pos = 0; wrap ^= 1; }
    i32[st + VQS_AVAIL] = pos;
    i32[st + VQS_AVAIL_WRAP] = wrap;
    u32[this.mbufOf + id] = m;
    u32[this.ndescOf + id] = need;
    if (this.inOrder) this.flyPush(id);
    return firstFlags;
  }
}
