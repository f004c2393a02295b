// Packet buffers: header fields, accessors, reset, append/prepend/adj, chains, reference counts, copies, bulk
// frees across pools, and the receive-path allocator.
import t, { type Test } from 'tap';
import { ealInit, ealCleanup, mem, cpusAllowed } from '../src/eal/index.js';
import { mempoolCreate, mempoolFree, MempoolError, type Mempool } from '../src/mempool/mempool.js';
import * as mb from '../src/mempool/mbuf.js';
import {
  pktmbufPoolCreate, pktmbufAlloc, pktmbufAllocBulk, pktmbufAllocBurst, pktmbufAllocPackets, pktmbufFree, pktmbufFreeBulk,
  pktmbufCopy, pktmbufRefcntUpdate, MBUF_DEFAULT_BUF_SIZE, PKTMBUF_HEADROOM, MBUF_PORT_INVALID, MBUF_HDR, M,
} from '../src/mempool/mbuf.js';

t.before(async () => {
  await ealInit(['--no-huge', '-m', '64', '--log-level', 'error', '-l', `${cpusAllowed()[0]}`]);
});
t.teardown(ealCleanup);

/** Every free mbuf in a pool must look fresh: one segment, no next, refcnt 1. */
function checkFreeInvariant(t: Test, pool: Mempool): void {
  const out = new Uint32Array(pool.size);
  const n = pool.getBurst(out, pool.size);
  let bad = 0;
  for (let i = 0; i < n; i++) if (mb.nbSegs(out[i]) !== 1 || mb.next(out[i]) !== 0 || mb.refcnt(out[i]) !== 1) bad++;
  pool.putBulk(out, n);
  t.equal(bad, 0, `free mbufs of ${pool.name} are unchained with refcnt 1`);
}

function fill(m: number, len: number, seed: number): void {
  const at = mb.append(m, len);
  const u8 = mem().u8;
  for (let i = 0; i < len; i++) u8[at + i] = (seed + i) & 0xff;
}

t.test('pool creation', async (t) => {
  const p = pktmbufPoolCreate('mb_a', 511, 32, 16, MBUF_DEFAULT_BUF_SIZE);
  t.equal(p.dataRoom, MBUF_DEFAULT_BUF_SIZE);
  t.equal(p.privSize, 16);
  t.equal(p.eltSize, Math.ceil((MBUF_HDR + 16 + MBUF_DEFAULT_BUF_SIZE) / 64) * 64);
  t.equal(p.availCount(), 511);
  for (const priv of [7, -8, 65536]) {
    t.throws(() => pktmbufPoolCreate('bad', 10, 0, priv), { name: 'MempoolError', message: `bad private size ${priv}: a multiple of 8 below 65536` });
  }
  for (const room of [-1, 65536, 1.5]) {
    t.throws(() => pktmbufPoolCreate('bad', 10, 0, 0, room), { name: 'MempoolError', message: `bad data room size ${room}: 0 to 65535 bytes` });
  }
  t.throws(() => pktmbufPoolCreate('mb_a', 10), { name: 'MempoolError', message: "mempool 'mb_a' already exists" });
  t.ok(new MempoolError('x') instanceof Error);
});

t.test('a fresh mbuf', async (t) => {
  const p = (await import('../src/mempool/mempool.js')).mempoolLookup('mb_a')!;
  const m = pktmbufAlloc(p);
  t.not(m, 0);
  t.equal(p.availCount(), 510);
  const r = mem();
  t.equal(mb.bufOff(m), m * 4 + MBUF_HDR + 16, 'buffer after header and private area');
  t.equal(mb.privOff(m), m * 4 + MBUF_HDR);
  const bufIova = r.u32[m + M.BUF_IOVA_HI] * 2 ** 32 + r.u32[m + M.BUF_IOVA_LO];
  t.equal(bufIova, r.iova(mb.bufOff(m)), 'buf IOVA = mem().iova(bufOff)');
  t.equal(mb.dataIova(m), bufIova + PKTMBUF_HEADROOM);
  t.equal(mb.bufLen(m), MBUF_DEFAULT_BUF_SIZE);
  t.equal(mb.dataOff(m), PKTMBUF_HEADROOM);
  t.equal(mb.headroom(m), PKTMBUF_HEADROOM);
  t.equal(mb.dataLen(m), 0);
  t.equal(mb.pktLen(m), 0);
  t.equal(mb.tailroom(m), MBUF_DEFAULT_BUF_SIZE - PKTMBUF_HEADROOM);
  t.equal(mb.mtod(m), mb.bufOff(m) + PKTMBUF_HEADROOM);
  t.equal(mb.port(m), MBUF_PORT_INVALID);
  t.equal(mb.nbSegs(m), 1);
  t.equal(mb.next(m), 0);
  t.equal(mb.refcnt(m), 1);
  t.equal(mb.poolId(m), p.id);
  t.equal(mb.olFlags(m), 0);
  t.equal(mb.packetType(m), 0);
  t.equal(r.u16[(m << 1) + M.H_PRIV_SIZE], 16);

  mb.setPort(m, 3);
  mb.setOlFlags(m, mb.RX_VLAN | mb.RX_IP_CKSUM_GOOD);
  mb.setPacketType(m, 0x11);
  mb.setVlanTci(m, 100);
  mb.setTxOffload(m, 0x1234);
  mb.setRefcnt(m, 1);
  r.u32[m + M.RSS] = 0xabcdef;
  t.equal(mb.port(m), 3);
  t.equal(mb.olFlags(m), mb.RX_VLAN | mb.RX_IP_CKSUM_GOOD);
  t.equal(mb.packetType(m), 0x11);
  t.equal(mb.vlanTci(m), 100);
  t.equal(mb.txOffload(m), 0x1234);
  t.equal(mb.rssHash(m), 0xabcdef);
  fill(m, 60, 1);
  mb.setDataOff(m, 100);
  mb.reset(m);
  t.match({ port: mb.port(m), ol: mb.olFlags(m), pt: mb.packetType(m), vlan: mb.vlanTci(m), tx: mb.txOffload(m), len: mb.pktLen(m), dl: mb.dataLen(m), off: mb.dataOff(m), segs: mb.nbSegs(m), next: mb.next(m) },
    { port: MBUF_PORT_INVALID, ol: 0, pt: 0, vlan: 0, tx: 0, len: 0, dl: 0, off: PKTMBUF_HEADROOM, segs: 1, next: 0 }, 'reset restores a fresh packet');
  pktmbufFree(m);
  t.equal(p.availCount(), 511);
  pktmbufFree(0);
  t.equal(p.availCount(), 511, 'freeing 0 is a no-op');
});

t.test('append, prepend, adj', async (t) => {
  const p = pktmbufPoolCreate('mb_small', 16, 0, 0, 256);
  t.teardown(() => mempoolFree(p));
  const m = pktmbufAlloc(p);
  t.equal(mb.tailroom(m), 128);
  const a = mb.append(m, 100);
  t.equal(a, mb.mtod(m), 'append returns where the new bytes go');
  t.equal(mb.dataLen(m), 100);
  t.equal(mb.pktLen(m), 100);
  t.equal(mb.append(m, 29), -1, 'more than the tailroom: -1');
  t.equal(mb.dataLen(m), 100, 'unchanged');
  t.equal(mb.append(m, 28), a + 100);
  t.equal(mb.tailroom(m), 0);
  mb.writeData(m, [1, 2, 3, 4]);
  t.same([...mb.dataView(m).subarray(0, 4)], [1, 2, 3, 4]);
  const pre = mb.prepend(m, 14);
  t.equal(pre, a - 14);
  t.equal(mb.headroom(m), 114);
  t.equal(mb.pktLen(m), 142);
  t.same([...mb.dataView(m).subarray(14, 18)], [1, 2, 3, 4], 'old data after the prepended header');
  t.equal(mb.prepend(m, 115), -1, 'more than the headroom: -1');
  t.equal(mb.pktLen(m), 142);
  t.equal(mb.adj(m, 14), a);
  t.equal(mb.dataLen(m), 128);
  t.same([...mb.dataView(m).subarray(0, 4)], [1, 2, 3, 4]);
  t.equal(mb.adj(m, 129), -1, 'more than the data: -1');
  t.equal(mb.adj(m, 128), a + 128);
  t.equal(mb.pktLen(m), 0);
  t.equal(mb.dataLen(m), 0);
  pktmbufFree(m);
  t.ok(p.full());
});

t.test('chains', async (t) => {
  const p = pktmbufPoolCreate('mb_chain', 64, 8, 0, 512);
  t.teardown(() => mempoolFree(p));
  const a = pktmbufAlloc(p);
  const b = pktmbufAlloc(p);
  const c = pktmbufAlloc(p);
  const d = pktmbufAlloc(p);
  fill(a, 100, 0);
  fill(b, 200, 100);
  fill(c, 50, 300);
  fill(d, 10, 350);
  t.ok(mb.chain(c, d), 'c+d');
  t.equal(mb.nbSegs(c), 2);
  t.equal(mb.pktLen(c), 60);
  t.ok(mb.chain(a, b));
  t.ok(mb.chain(a, c), 'a chain appended to a chain');
  t.equal(mb.nbSegs(a), 4);
  t.equal(mb.pktLen(a), 360);
  t.equal(mb.next(a), b);
  t.equal(mb.next(b), c);
  t.equal(mb.next(c), d);
  t.equal(mb.next(d), 0);
  const bytes = mb.packetBytes(a);
  t.equal(bytes.length, 360);
  t.ok(bytes.every((x, i) => x === (i & 0xff)), 'packetBytes walks the segments in order');
  const tail = mb.append(a, 20);
  t.equal(tail, mb.mtod(d) + 10, 'append goes to the last segment');
  t.equal(mb.pktLen(a), 380);
  t.equal(mb.dataLen(d), 30);
  t.equal(p.inUseCount(), 4);
  pktmbufFree(a);
  t.equal(p.inUseCount(), 0, 'freeing the head returns every segment');
  p.cacheFlush();
  checkFreeInvariant(t, p);
  // segment count overflow is refused
  const x = pktmbufAlloc(p);
  const y = pktmbufAlloc(p);
  mem().u16[(x << 1) + M.H_NB_SEGS] = 0xffff;
  t.equal(mb.chain(x, y), false, 'more than 65535 segments: false');
  t.equal(mb.next(x), 0);
  mem().u16[(x << 1) + M.H_NB_SEGS] = 1;
  pktmbufFree(x);
  pktmbufFree(y);
  t.equal(p.inUseCount(), 0);
});

t.test('reference counts', async (t) => {
  const p = pktmbufPoolCreate('mb_ref', 32, 0, 0, 512);
  t.teardown(() => mempoolFree(p));
  const m = pktmbufAlloc(p);
  pktmbufRefcntUpdate(m, 1);
  t.equal(mb.refcnt(m), 2);
  pktmbufFree(m);
  t.equal(p.inUseCount(), 1, 'a shared mbuf is not freed while referenced');
  t.equal(mb.refcnt(m), 1);
  pktmbufFree(m);
  t.equal(p.inUseCount(), 0, 'freed when the last reference goes');
  // a chain whose second segment is shared with another packet
  const h = pktmbufAlloc(p);
  const s = pktmbufAlloc(p);
  const other = pktmbufAlloc(p);
  fill(h, 10, 0);
  fill(s, 20, 0);
  mb.chain(h, s);
  pktmbufRefcntUpdate(s, 1);
  t.equal(mb.refcntUpdate(other, 2), 3, 'refcntUpdate returns the new count');
  mb.setRefcnt(other, 1);
  pktmbufFree(h);
  t.equal(p.inUseCount(), 2, 'the head went back, the shared segment stayed');
  t.equal(mb.refcnt(s), 1);
  t.equal(mb.next(s), 0);
  pktmbufFree(s);
  pktmbufFree(other);
  t.equal(p.inUseCount(), 0);
  checkFreeInvariant(t, p);
});

t.test('pktmbufCopy', async (t) => {
  const src = pktmbufPoolCreate('mb_src', 16, 0, 0, 512);
  const dst = pktmbufPoolCreate('mb_dst', 16, 0, 0, 512);
  const tiny = pktmbufPoolCreate('mb_tiny', 2, 0, 0, 512);
  t.teardown(() => { mempoolFree(src); mempoolFree(dst); mempoolFree(tiny); });
  const a = pktmbufAlloc(src);
  const b = pktmbufAlloc(src);
  const c = pktmbufAlloc(src);
  fill(a, 64, 7);
  fill(b, 300, 71);
  fill(c, 5, 115);
  mb.chain(a, b);
  mb.chain(a, c);
  mb.setPort(a, 5);
  mb.setOlFlags(a, mb.RX_RSS_HASH);
  mb.setPacketType(a, 0x21);
  const cp = pktmbufCopy(a, dst);
  t.not(cp, 0);
  t.equal(mb.poolId(cp), dst.id, 'copy comes from the given pool');
  t.equal(dst.inUseCount(), 3);
  t.equal(mb.nbSegs(cp), 3);
  t.equal(mb.pktLen(cp), 369);
  t.same(mb.packetBytes(cp), mb.packetBytes(a), 'same bytes');
  t.equal(mb.port(cp), 5);
  t.equal(mb.olFlags(cp), mb.RX_RSS_HASH);
  t.equal(mb.packetType(cp), 0x21);
  mem().u8[mb.mtod(cp)] ^= 0xff;
  t.not(mem().u8[mb.mtod(cp)], mem().u8[mb.mtod(a)], 'a deep copy: changing it leaves the original');
  t.equal(pktmbufCopy(a, tiny), 0, 'not enough mbufs: 0');
  t.equal(tiny.inUseCount(), 0, '... and the partial copy went back');
  pktmbufFree(cp);
  pktmbufFree(a);
  t.equal(src.inUseCount() + dst.inUseCount(), 0);
});

t.test('pktmbufFreeBulk mixes pools, chains and shared mbufs', async (t) => {
  const pa = pktmbufPoolCreate('fb_a', 512, 32, 0, 512);
  const pb = pktmbufPoolCreate('fb_b', 512, 0, 0, 512);
  t.teardown(() => { mempoolFree(pa); mempoolFree(pb); });
  const arr = new Uint32Array(300);
  let expectBytes = 0;
  let n = 0;
  const add = (m: number) => { arr[n++] = m; expectBytes += mb.pktLen(m); };
  for (let i = 0; i < 40; i++) {
    const m = pktmbufAlloc(i % 3 === 0 ? pb : pa);
    fill(m, 10 + i, i);
    add(m);
  }
  const h = pktmbufAlloc(pa);
  const s = pktmbufAlloc(pb);
  fill(h, 30, 0);
  fill(s, 40, 0);
  mb.chain(h, s);
  add(h);
  const shared = pktmbufAlloc(pa);
  fill(shared, 8, 0);
  pktmbufRefcntUpdate(shared, 1);
  add(shared);
  for (let i = 0; i < 200; i++) { // more than a cache holds
    const m = pktmbufAlloc(pa);
    fill(m, 1, 0);
    add(m);
  }
  t.equal(pktmbufFreeBulk(arr, n - 2, 2) + mb.pktLen(arr[0]) + mb.pktLen(arr[1]), expectBytes, 'returns the bytes freed (from an offset)');
  pktmbufFreeBulk(arr, 2);
  t.equal(pb.inUseCount(), 0, 'pool B got its mbufs back, the chained segment included');
  t.equal(pa.inUseCount(), 1, 'pool A: all but the shared mbuf');
  t.equal(mb.refcnt(shared), 1);
  t.equal(pktmbufFreeBulk(Uint32Array.of(shared), 1), 8);
  t.equal(pa.inUseCount(), 0);
  pa.cacheFlush();
  checkFreeInvariant(t, pa);
  checkFreeInvariant(t, pb);
  t.equal(pktmbufFreeBulk(arr, 0), 0, 'nothing to free');
});

t.test('allocation: burst, bulk, receive-path packets', async (t) => {
  for (const cache of [0, 16]) {
    const p = pktmbufPoolCreate(`al${cache}`, 40, cache, 0, 1024);
    const arr = new Uint32Array(64);
    t.equal(pktmbufAllocBulk(p, arr, 41), false, `cache ${cache}: bulk of 41 from 40 fails`);
    t.equal(p.inUseCount(), 0, 'nothing taken');
    t.equal(pktmbufAllocBurst(p, arr, 30), 30);
    t.equal(pktmbufAllocBurst(p, arr, 30, 30), 10, 'burst takes what is left');
    t.equal(pktmbufAllocBurst(p, arr, 5), 0);
    t.equal(pktmbufAlloc(p), 0, 'empty pool: pktmbufAlloc gives 0');
    t.ok([...arr.subarray(0, 40)].every((m) => mb.refcnt(m) === 1 && mb.dataLen(m) === 0 && mb.dataOff(m) === PKTMBUF_HEADROOM));
    pktmbufFreeBulk(arr, 40);
    t.equal(pktmbufAllocBulk(p, arr, 40), true);
    pktmbufFreeBulk(arr, 40);
    t.equal(p.inUseCount(), 0);
    // receive path: len and port set, everything else fresh
    const dirty = pktmbufAlloc(p);
    fill(dirty, 10, 0);
    mb.setOlFlags(dirty, 0xff);
    mb.setPacketType(dirty, 9);
    mb.setTxOffload(dirty, 9);
    mb.setVlanTci(dirty, 9);
    pktmbufFree(dirty);
    const got = pktmbufAllocPackets(p, arr, 32, 60, 7);
    t.equal(got, 32);
    let bad = 0;
    for (let i = 0; i < got; i++) {
      const m = arr[i];
      if (mb.pktLen(m) !== 60 || mb.dataLen(m) !== 60 || mb.port(m) !== 7 || mb.dataOff(m) !== PKTMBUF_HEADROOM ||
        mb.olFlags(m) !== 0 || mb.packetType(m) !== 0 || mb.txOffload(m) !== 0 || mb.vlanTci(m) !== 0 ||
        mb.nbSegs(m) !== 1 || mb.refcnt(m) !== 1 || mb.next(m) !== 0) bad++;
    }
    t.equal(bad, 0, 'received packets are initialised');
    t.equal(pktmbufAllocPackets(p, arr, 32, 60, 7, ), 8, 'fewer when the pool runs dry');
    t.equal(pktmbufAllocPackets(p, arr, 32, 60, 7), 0);
    t.equal(p.inUseCount(), 40);
    pktmbufFreeBulk(arr, 8);
    const a2 = new Uint32Array(64);
    t.equal(pktmbufAllocPackets(p, a2, 50, 64, 1), 8, 'a request larger than the cache');
    pktmbufFreeBulk(a2, 8);
    t.equal(p.inUseCount(), 32);
    mempoolFree(p);
  }
});

t.test('non-packet pools and tiny data rooms', async (t) => {
  const p = pktmbufPoolCreate('mb_tinyroom', 4, 0, 0, 64);
  const m = pktmbufAlloc(p);
  t.equal(mb.dataOff(m), 64, 'headroom capped by the data room');
  t.equal(mb.tailroom(m), 0);
  t.equal(mb.append(m, 1), -1);
  pktmbufFree(m);
  mempoolFree(p);
  const plain = mempoolCreate('plain', 4, { eltSize: 64 });
  t.equal(plain.dataRoom, 0);
  mempoolFree(plain);
});
