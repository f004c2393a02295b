// Receive-side counters of one stream of sequence-numbered packets: received, unique, duplicates, reordered
// (arrived after a higher sequence number), late (older than the window, so neither duplicate nor reorder can be
// told), and the highest sequence number seen. Loss is sent - unique, computed when the sender's count is known.
//
// Sequence numbers are 32 bits on the wire and wrap after 2^32 packets (15 minutes at 4.7 Mpps), so they are
// compared in serial-number arithmetic (RFC 1982, SERIAL_BITS = 32): seq is ahead of the highest one seen when
// (seq - max) mod 2^32 is in 1 .. 2^31 - 1, behind it otherwise. A stream is counted right across any number of
// wraps as long as no gap or reordering spans 2^31 packets; the counters are doubles, exact up to 2^53.
//
// Duplicates are found with a bitmap of the last SEQ_WINDOW sequence numbers (bit s % SEQ_WINDOW), the way
// IPsec's anti-replay window works (RFC 4303 3.4.3): moving the window forward clears the bits it passes over.
// SEQ_WINDOW divides 2^32, so a sequence number keeps its bit across a wrap.
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
/**
 * highest sequence number seen (serial order), as the int32 of its 32 bits: counts() gives it unsigned, and -1
 * before the first packet
 */
export const SC_MAX_SEQ = 5;
export const SC_BYTES = 6;
/** times the highest sequence number wrapped from 2^32-1 to 0: the stream's extended highest number is
 * wraps * 2^32 + maxSeq */
export const SC_WRAPS = 7;
export const SC_WORDS = 8;
const SEQ_MASK = SEQ_WINDOW - 1;

export interface StreamCounts {
  rx: number;
  unique: number;
  dup: number;
  reorder: number;
  late: number;
  maxSeq: number;
  bytes: number;
  /** times the highest number wrapped from 2^32 - 1 to 0 */
  wraps: number;
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
    this.bits.fill(0, 0, SEQ_WORDS);
  }

  /**
   * The window moves on by d to the bit of a new highest number (bit index i): clears the bits of the d - 1 numbers
   * it skips. Arguments are small integers (bit index, distance): a sequence number above 2^31 passed to a call
   * that is not inlined would be boxed.
   */
  private advance(i: number, d: number): void {
    const bits = this.bits;
    if (d > SEQ_WINDOW) {
      bits.fill(0, 0, SEQ_WORDS);
      return;
    }
    for (let k = 1; k < d; k++) {
      const j = (i - k) & SEQ_MASK;
      bits[j >>> 5] &= ~(1 << (j & 31));
    }
  }

  /**
   * Counts one packet with sequence number seq and len bytes. seq is the wire's u32 as an int32 (what stampSeq
   * returns) or as an unsigned number: only its low 32 bits count. All arithmetic on it is int32 (`| 0`): an
   * unsigned value above 2^31 in a local makes V8 deoptimize the loop that inlined this, and a boxed one costs a
   * heap number per packet.
   */
  record(seq: number, len: number): void {
    const c = this.c;
    const bits = this.bits;
    const q = seq | 0;
    const i = q & SEQ_MASK;
    const w = i >>> 5;
    const b = 1 << (i & 31);
    const max = c[SC_MAX_SEQ] | 0;
    // serial distance from the highest number seen, -2^31 .. 2^31 - 1 (the first packet: 1, nothing to clear)
    const d = c[SC_UNIQUE] === 0 ? 1 : (q - max) | 0;
    c[SC_RX] += 1;
    c[SC_BYTES] += len;
    if (d > 0) {
      if (d > 1) this.advance(i, d);
      bits[w] |= b;
      // moving forward by less than 2^31 wraps exactly when the top bit goes from 1 to 0
      if (max < 0 && q >= 0) c[SC_WRAPS] += 1;
      c[SC_MAX_SEQ] = q;
      c[SC_UNIQUE] += 1;
    } else if (d <= -SEQ_WINDOW) {
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
    return {
      rx: c[SC_RX], unique: c[SC_UNIQUE], dup: c[SC_DUP], reorder: c[SC_REORDER], late: c[SC_LATE], bytes: c[SC_BYTES],
      maxSeq: c[SC_UNIQUE] === 0 ? -1 : c[SC_MAX_SEQ] >>> 0, wraps: c[SC_WRAPS],
    };
  }
}
