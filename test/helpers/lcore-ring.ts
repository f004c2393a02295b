// Ring workers for the ring tests: producers send disjoint sequences, consumers tick every value they get in a
// shared byte array (one byte per value), so the main lcore can check that every value arrived exactly once.
import { ringLookup, mem, memzoneLookup, quitRequested, lcoreId } from '../../src/index.js';

/**
 * ctl: a zone whose i32 word READY counts the workers that have started; with `parties`, a producer sends only once
 * that many have (a worker started late on a loaded machine would otherwise find the run over).
 */
export interface ProducerArgs { ring: string; first: number; count: number; burst: number; bulk?: boolean; ctl?: string; parties?: number }
export interface ConsumerArgs {
  ring: string; seen: string; ctl: string; burst: number; perProducer: number; producers: number; timeoutMs: number;
}
/** i32 words of the ctl zone: [0] items consumed, [1] items to consume, [READY] workers started */
export const READY = 2;

/** Counts this worker in; with parties > 0, waits until that many have (or the run is stopped). */
function arrive(ctl: string | undefined, parties = 0): void {
  if (!ctl) return;
  const z = memzoneLookup(ctl);
  if (!z) throw new Error(`no zone ${ctl}`);
  const i32 = mem().i32;
  const w = (z.off >> 2) + READY;
  Atomics.add(i32, w, 1);
  while (parties > 0 && Atomics.load(i32, w) < parties && !quitRequested());
}

export function producer(a: ProducerArgs): { lcore: number; sent: number; retries: number } {
  const r = ringLookup(a.ring);
  if (!r) throw new Error(`no ring ${a.ring}`);
  const buf = new Uint32Array(a.burst);
  let sent = 0;
  let retries = 0;
  let v = a.first;
  const end = a.first + a.count;
  let k = 0;
  arrive(a.ctl, a.parties);
  while (v < end && !quitRequested()) {
    // vary the burst size so heads and tails land everywhere in the ring
    let n = 1 + ((k++ * 7) % a.burst);
    if (n > end - v) n = end - v;
    for (let i = 0; i < n; i++) buf[i] = v + i;
    const done = a.bulk ? r.enqueueBulk(buf, n) : r.enqueueBurst(buf, n);
    if (a.bulk && done !== 0 && done !== n) throw new Error(`enqueueBulk returned ${done} of ${n}`);
    if (done === 0) retries++;
    v += done;
    sent += done;
  }
  return { lcore: lcoreId(), sent, retries };
}

/**
 * Dequeues until the consumers together got ctl[1] items (the main lcore lowers that word to what the producers
 * really sent when it stops them early). Gives up after timeoutMs so a lost item fails the test instead of hanging it.
 */
export function consumer(a: ConsumerArgs): { lcore: number; got: number; orderErrors: number; outOfRange: number; timedOut: boolean } {
  const r = ringLookup(a.ring);
  const zs = memzoneLookup(a.seen);
  const zc = memzoneLookup(a.ctl);
  if (!r || !zs || !zc) throw new Error('consumer: missing ring or zones');
  const m = mem();
  const seen = m.u8;
  const seenOff = zs.off;
  const ctl = m.i32;
  const consumed = zc.off >> 2;
  const target = consumed + 1;
  const buf = new Uint32Array(a.burst);
  const last = new Float64Array(a.producers).fill(-1);
  let got = 0;
  let orderErrors = 0;
  let outOfRange = 0;
  let idle = 0;
  arrive(a.ctl);
  const deadline = Date.now() + a.timeoutMs;
  while (Atomics.load(ctl, consumed) < Atomics.load(ctl, target)) {
    const n = r.dequeueBurst(buf, a.burst);
    if (n === 0) {
      if ((++idle & 0xffff) === 0 && Date.now() > deadline) return { lcore: lcoreId(), got, orderErrors, outOfRange, timedOut: true };
      continue;
    }
    for (let i = 0; i < n; i++) {
      const v = buf[i];
      if (v >= a.perProducer * a.producers) {
        outOfRange++;
        continue;
      }
      Atomics.add(seen, seenOff + v, 1);
      const p = Math.floor(v / a.perProducer);
      // one producer's values leave the ring in the order it sent them
      if (v <= last[p]) orderErrors++;
      last[p] = v;
    }
    got += n;
    Atomics.add(ctl, consumed, n);
  }
  return { lcore: lcoreId(), got, orderErrors, outOfRange, timedOut: false };
}

/** Finds a ring by name on this worker and enqueues values; returns what it dequeued from a second ring. */
export function lookupAndEnqueue(a: { ring: string; values: number[]; back?: string }): { found: boolean; enq: number; back: number[] } {
  const r = ringLookup(a.ring);
  if (!r) return { found: false, enq: 0, back: [] };
  const enq = r.enqueueBurst(Uint32Array.from(a.values), a.values.length);
  const back: number[] = [];
  if (a.back) {
    const b = ringLookup(a.back)!;
    const out = new Uint32Array(64);
    const n = b.dequeueBurst(out, 64);
    back.push(...out.subarray(0, n));
  }
  return { found: true, enq, back };
}
