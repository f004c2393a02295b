// Departure schedules for a generator: how many packets are due at a given time on a nanosecond clock.
//
// Constant: packet k leaves at start + k / rate. The loop asks due(now) on every pass and sends what is due, so
// packets go out as soon as their time has come (one at a time at low rates), not as bursts per millisecond tick.
// Poisson: gaps are exponential with mean 1 / rate (inverse-transform sampling of a xorshift32 uniform), the
// arrival process RFC 2544 does not ask for but MoonGen and TRex offer for queueing tests.
// A sender that fell behind (its TX ring refused packets, the CPU was taken away) catches up by at most
// `maxBacklog` packets; older debt is forgiven and counted in `skipped`, so the achieved rate shows the shortfall.
export const PACE_CONSTANT = 0;
export const PACE_POISSON = 1;

export class Pacer {
  readonly mode: number;
  /** packets per second */
  readonly rate: number;
  private readonly nsPerPkt: number;
  private readonly maxBacklog: number;
  /** departure time of the next packet, ns */
  private next = 0;
  private rng = 0x2545f491;
  /** packets whose departure was forgiven because the sender fell more than maxBacklog behind */
  skipped = 0;

  constructor(mode: number, rate: number, maxBacklog = 64, seed = 0x2545f491) {
    if (!(rate > 0)) throw new RangeError(`pacer rate ${rate}: packets per second above 0`);
    this.mode = mode;
    this.rate = rate;
    this.nsPerPkt = 1e9 / rate;
    this.maxBacklog = maxBacklog;
    this.rng = seed | 0 || 1;
  }

  start(nowNs: number): void {
    this.next = nowNs;
    this.skipped = 0;
  }

  /** A uniform in (0, 1] from xorshift32 (Marsaglia 2003), no allocation. */
  private uniform(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x;
    return ((x >>> 0) + 1) / 4294967296;
  }

  private gap(): number {
    return this.mode === PACE_POISSON ? -Math.log(this.uniform()) * this.nsPerPkt : this.nsPerPkt;
  }

  /**
   * How many packets are due at nowNs, at most max; their departures are consumed. Call take(n) is not needed:
   * what due() returns is considered sent (give back what the TX ring refused with giveBack()).
   */
  due(nowNs: number, max: number): number {
    if (nowNs < this.next) return 0;
    const late = (nowNs - this.next) / this.nsPerPkt;
    if (late > this.maxBacklog) {
      const forgive = Math.floor(late) - this.maxBacklog;
      this.skipped += forgive;
      this.next += forgive * this.nsPerPkt;
    }
    let k = 0;
    while (k < max && this.next <= nowNs) {
      this.next += this.gap();
      k++;
    }
    return k;
  }

  /** Packets due() handed out that were not sent: they are due again at once. */
  giveBack(n: number): void {
    this.next -= n * this.nsPerPkt;
  }
}
