// Receive-side counters of one stream of sequence-numbered packets: received, unique, duplicates, reordered
// (arrived after a higher sequence number), late (older than the window, so neither duplicate nor reorder can be
// told), and the highest sequence number seen. Loss is sent - unique, computed when the sender's count is known.
//
// Duplicates are found with a bitmap of the last SEQ_WINDOW sequence numbers (bit s % SEQ_WINDOW), the way
// IPsec's anti-replay window works (RFC 4303 3.4.3): moving the window forward clears the bits it passes over.
// Counters and bitmap live in caller-given typed arrays (memzone slices), so the main lcore can read them while a
// worker counts; record() allocates nothing.

/** sequence numbers remembered for duplicate detection (a power of two) */
export const SEQ_WINDOW = 4096;
export const SEQ_WORDS = SEQ_WINDOW / 32;
/** f64 counter words of one stream */
export const SC_RX = 0;
export const SC_UNIQUE = 1;
export const SC_DUP = 2;
export const SC_REORDER = 3;
export const SC_LATE = 4;
/** highest sequence number seen, -1 before the first packet */
export const SC_MAX_SEQ = 5;
export const SC_BYTES = 6;
export const SC_WORDS = 8;

export interface StreamCounts {
  rx: number;
  unique: number;
  dup: number;
  reorder: number;
  late: number;
  maxSeq: number;
  bytes: number;
}

export class StreamRx {
  readonly c: Float64Array;
  readonly bits: Int32Array;
  /** @param clear zero the words (false: a view of counters another lcore keeps) */
  constructor(c: Float64Array = new Float64Array(SC_WORDS), bits: Int32Array = new Int32Array(SEQ_WORDS), clear = true) {
    if (c.length < SC_WORDS || bits.length < SEQ_WORDS) throw new RangeError(`a stream needs ${SC_WORDS} counters and ${SEQ_WORDS} bitmap words`);
    this.c = c;
    this.bits = bits;
    if (clear) this.reset();
  }

  reset(): void {
    this.c.fill(0, 0, SC_WORDS);
    this.c[SC_MAX_SEQ] = -1;
    this.bits.fill(0, 0, SEQ_WORDS);
  }

  /** Clears the window's bits for sequence numbers from..to (inclusive), at most the whole window. */
  private clear(from: number, to: number): void {
    const bits = this.bits;
    if (to - from + 1 >= SEQ_WINDOW) {
      bits.fill(0, 0, SEQ_WORDS);
      return;
    }
    for (let s = from; s <= to; s++) {
      const i = s & (SEQ_WINDOW - 1);
      bits[i >>> 5] &= ~(1 << (i & 31));
    }
  }

  /** Counts one packet with sequence number seq (0 .. 2^32-1) and len bytes. */
  record(seq: number, len: number): void {
    const c = this.c;
    const bits = this.bits;
    c[SC_RX] += 1;
    c[SC_BYTES] += len;
    const max = c[SC_MAX_SEQ];
    const i = seq & (SEQ_WINDOW - 1);
    const w = i >>> 5;
    const b = 1 << (i & 31);
    if (seq > max) {
      this.clear(max + 1, seq - 1);
      bits[w] |= b;
      c[SC_MAX_SEQ] = seq;
      c[SC_UNIQUE] += 1;
    } else if (seq <= max - SEQ_WINDOW) {
      c[SC_LATE] += 1;
      c[SC_UNIQUE] += 1;
    } else if ((bits[w] & b) !== 0) {
      c[SC_DUP] += 1;
    } else {
      bits[w] |= b;
      c[SC_REORDER] += 1;
      c[SC_UNIQUE] += 1;
    }
  }

  counts(): StreamCounts {
    const c = this.c;
    return { rx: c[SC_RX], unique: c[SC_UNIQUE], dup: c[SC_DUP], reorder: c[SC_REORDER], late: c[SC_LATE], maxSeq: c[SC_MAX_SEQ], bytes: c[SC_BYTES] };
  }
}
