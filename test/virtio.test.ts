// net_virtio against a simulated modern virtio-net function (test/helpers/virtio-sim.ts): the real driver code
// (control half through ethdev, data half attached from the JSON queue specs) on a device model that implements
// the common configuration, the device side of split and packed virtqueues, the control virtqueue, mergeable RX
// buffers and the net header. Covered: capability parsing with the structures in different BARs, the status
// handshake in the specification's order, feature negotiation (what is accepted, and a clear message naming a
// missing feature, with the device left reset and no mbuf lost), a legacy-only device refused, both ring layouts
// with one publishing store per burst and notifications only when the device asks (EVENT_IDX, NO_NOTIFY, packed
// event structures), IN_ORDER batched completions, multi-queue through VIRTIO_NET_CTRL_MQ, CTRL_RX modes, link from
// the config space, mergeable jumbo frames into chains, multi-segment TX, checksum flags both ways, stop by reset
// with every mbuf back, and l2fwd's forwarding loop between two simulated ports.
import t from 'tap';
import { txFuzz } from './helpers/tx-fuzz.js';
import * as v8 from 'node:v8';
import { ealInit, ealCleanup, mem, memzoneReserve, memzoneFree, remoteLaunch, waitLcore, requestQuit, clearQuit } from '../src/eal/index.js';
import { registerPmd } from '../src/pmd/registry.js';
import {
  pktmbufPoolCreate, pktmbufAllocBulk, pktmbufFreeBulk, writeData, append, pktLen, nbSegs, next, packetBytes,
  olFlags, setOlFlags, setTxLens, chain, setDataOff, dataOff, RX_L4_CKSUM_GOOD, RX_L4_CKSUM_MASK, TX_UDP_CKSUM, TX_IPV4,
  type Mempool,
} from '../src/mempool/mbuf.js';
import {
  ethDevAllocate, statsGet, devConfigure, rxQueueSetup, txQueueSetup, devStart, devStop, devClose, rxBurst, txBurst, linkGet,
  macAddrGet, formatMac, promiscuousEnable, promiscuousDisable, allmulticastEnable, xstatsGet, devInfoGet,
} from '../src/ethdev/ethdev.js';
import { RX_OFFLOAD_UDP_CKSUM, RX_OFFLOAD_TCP_CKSUM, TX_OFFLOAD_UDP_CKSUM, TX_OFFLOAD_MULTI_SEGS, type EthConf, type EthDevOps } from '../src/pmd/driver.js';
import { pmd, setVirtioRing } from '../src/pmd/virtio/virtio.js';
import { chooseFeatures } from '../src/pmd/virtio/features.js';
import * as S from '../src/pmd/virtio/spec.js';
import { setPciAccessProvider } from '../src/pmd/pci/access.js';
import { parseEalArgs } from '../src/eal/args.js';
import l2fwdMainLoop, { MAX_PORTS, ST_RX, ST_TX, ST_DROP, type FwdArgs } from '../examples/l2fwd/fwd.js';
import { rxIntrEnable, rxIntrDisable, rxIntrArm, rxIntrCtlQ, rxIntrWait, rxIntrRelease } from '../src/ethdev/intr.js';
import { eventfdDrain } from '../src/vfio/irq.js';
import * as ffi from '../src/eal/ffi.js';
import { VirtioNetSim, QEMU_FEATURES, type VirtioSimOptions } from './helpers/virtio-sim.js';
import { flowFrame, parse, pseudoHeaderSum } from './helpers/igb-sim.js';

const POOL_N = 4095;
let bdfN = 0;

/** A broadcast frame of an experimental EtherType, its bytes a pattern of `seed`. */
function raw(len: number, seed: number): Uint8Array {
  const f = new Uint8Array(len);
  for (let i = 0; i < len; i++) f[i] = (i * 7 + seed) & 0xff;
  f.fill(0xff, 0, 6);
  f.set([0x88, 0xb5], 12);
  return f;
}

t.test('net_virtio on a simulated virtio-net device', async (t) => {
  await ealInit(['--no-huge', '-m', '256', '-l', '0,1', '--log-level', 'error']);
  t.teardown(ealCleanup);
  const pool: Mempool = pktmbufPoolCreate('virtio_pool', POOL_N, 32);
  registerPmd(pmd); // worker lcores import the data plane from pmd.dataPlaneUrl
  t.teardown(() => setPciAccessProvider(null));

  interface Dev { sim: VirtioNetSim; port: number; bdf: string; ops: EthDevOps }
  /** A simulated function probed through net_virtio and registered with ethdev. */
  function open(o: VirtioSimOptions = {}, ring: 'auto' | 'split' | 'packed' = 'auto', devargs: Record<string, string> = {}): Dev {
    const bdf = `0000:00:${(++bdfN).toString(16).padStart(2, '0')}.0`;
    const sim = new VirtioNetSim(`vsim${bdfN}`, o);
    setPciAccessProvider(() => sim.access(bdf));
    setVirtioRing(ring);
    const ops = pmd.probePci!(bdf, null as never, new Map(Object.entries(devargs)));
    const port = ethDevAllocate(bdf, ops, pmd);
    return { sim, port, bdf, ops };
  }
  function close(d: Dev): void {
    devClose(d.port);
    d.sim.release();
  }
  function setup(d: Dev, pairs = 1, conf: EthConf = {}, nb = 256): void {
    devConfigure(d.port, pairs, pairs, conf);
    for (let q = 0; q < pairs; q++) rxQueueSetup(d.port, q, nb, 0, null, pool);
    for (let q = 0; q < pairs; q++) txQueueSetup(d.port, q, nb, 0, null);
    devStart(d.port);
  }
  function mk(bytes: ArrayLike<number>): number {
    const m = new Uint32Array(1);
    if (!pktmbufAllocBulk(pool, m, 1, 0)) throw new Error('pool empty');
    append(m[0], bytes.length);
    writeData(m[0], bytes);
    return m[0];
  }
  function drain(d: Dev, q: number, check: (m: number, i: number) => void = () => {}): number {
    const mb = new Uint32Array(32);
    let got = 0;
    for (let k; (k = rxBurst(d.port, q, mb, 32)) > 0;) {
      for (let i = 0; i < k; i++) check(mb[i], got + i);
      pktmbufFreeBulk(mb, k, 0);
      got += k;
    }
    return got;
  }
  /** Atomics.store calls on the EAL region's u16 view (the publishing stores) during fn. */
  function publishes(fn: () => void): number {
    const u16 = mem().u16;
    const orig = Atomics.store;
    let n = 0;
    (Atomics as { store: typeof Atomics.store }).store = ((a: never, i: number, v: number) => {
      if (a === u16) n++;
      return orig(a, i, v);
    }) as typeof Atomics.store;
    try { fn(); } finally { (Atomics as { store: typeof Atomics.store }).store = orig; }
    return n;
  }

  t.test('probe and bring-up: capabilities, handshake order, MAC, link', async (t) => {
    // structures spread over three BARs, behind a non-virtio capability
    const d = open({ common: { bar: 2, offset: 0x100 }, notify: { bar: 4, offset: 0x800, mul: 2 }, device: { bar: 0, offset: 0x40 } });
    t.same(pmd.pciIds, [{ vendor: 0x1af4, device: 0x1041 }, { vendor: 0x1af4, device: 0x1000 }], 'claims 1af4:1041 and 1af4:1000');
    t.equal(formatMac(macAddrGet(d.port)), '52:54:00:12:34:56', 'MAC from the device configuration');
    t.same(d.sim.statusLog, [0, 1, 3, 0], 'probe: reset, ACKNOWLEDGE, DRIVER (features read), reset');
    const info = devInfoGet(d.port);
    t.equal(info.maxRxQueues, 4, 'queue pairs from max_virtqueue_pairs');
    t.equal(info.rxDescLim.nbMax, 256, 'ring size from queue_size');
    setup(d);
    const log = d.sim.statusLog.slice(4);
    t.same(log, [0, 1, 3, 11, 15], 'start: reset, ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK [3.1.1]');
    const f = d.sim.accepted();
    t.ok(S.has(f, S.VIRTIO_F_VERSION_1) && S.has(f, S.VIRTIO_NET_F_MRG_RXBUF), 'VERSION_1, MRG_RXBUF accepted');
    t.notOk(S.has(f, S.VIRTIO_F_EVENT_IDX), 'EVENT_IDX declined by default (as DPDK: NO_NOTIFY suppresses more with QEMU)');
    t.ok(S.has(f, S.VIRTIO_F_RING_PACKED), 'packed ring taken when offered (auto)');
    t.notOk(S.has(f, S.VIRTIO_NET_F_GUEST_CSUM) || S.has(f, S.VIRTIO_NET_F_CSUM) || S.has(f, S.VIRTIO_NET_F_GUEST_TSO4), 'no offloads that were not asked');
    t.equal(f & ~QEMU_FEATURES, 0n, 'nothing accepted that was not offered');
    t.equal(d.sim.promisc, false, 'CTRL_RX: promiscuous off (the device resets to on)');
    t.ok(d.sim.busMaster, 'bus mastering on');
    t.equal(linkGet(d.port).up, true, 'link up from the config status');
    d.sim.setLink(false);
    t.equal(linkGet(d.port).up, false, 'link down when VIRTIO_NET_S_LINK_UP clears');
    d.sim.setLink(true);
    promiscuousEnable(d.port);
    t.equal(d.sim.promisc, true, 'promiscuous through VIRTIO_NET_CTRL_RX_PROMISC');
    allmulticastEnable(d.port);
    t.equal(d.sim.allmulti, true, 'all-multicast through VIRTIO_NET_CTRL_RX_ALLMULTI');
    promiscuousDisable(d.port);
    t.equal(d.sim.promisc, false);
    close(d);
    t.ok(d.sim.closed && !d.sim.busMaster && d.sim.status === 0, 'close: reset, DMA off, function released');
  });

  t.test('refusals: legacy-only, missing features, FEATURES_OK refused', async (t) => {
    t.throws(() => open({ legacyOnly: true, deviceId: 0x1000 }), { message: /legacy-only virtio device .*disable-modern=on/ }, 'legacy-only device refused');
    const noV1 = QEMU_FEATURES & ~S.bit(S.VIRTIO_F_VERSION_1);
    t.throws(() => open({ features: noV1 }), { message: /does not offer VIRTIO_F_VERSION_1/ });
    const noMq = QEMU_FEATURES & ~S.bit(S.VIRTIO_NET_F_MQ);
    const d = open({ features: noMq });
    const avail = pool.availCount();
    t.throws(() => devConfigure(d.port, 2, 2, {}), { message: /2 RX queues asked, net_virtio has at most 1/ }, 'without MQ: one queue pair (ethdev says so)');
    t.throws(() => d.ops.configure(2, 2, {}), { message: /2 queue pairs were asked, and the device does not offer VIRTIO_NET_F_MQ/ }, 'the driver names the feature');
    const noMrg = QEMU_FEATURES & ~S.bit(S.VIRTIO_NET_F_MRG_RXBUF);
    const e = open({ features: noMrg });
    devConfigure(e.port, 1, 1, { rxmode: { mtu: 9000 } });
    t.throws(() => rxQueueSetup(e.port, 0, 256, 0, null, pool), { message: /MTU 9000 .* does not offer VIRTIO_NET_F_MRG_RXBUF/ }, 'jumbo without MRG_RXBUF names it');
    const noCsum = QEMU_FEATURES & ~S.bit(S.VIRTIO_NET_F_CSUM);
    const c = open({ features: noCsum });
    t.throws(() => devConfigure(c.port, 1, 1, { txmode: { offloads: TX_OFFLOAD_UDP_CKSUM } }), { message: /TX offloads not supported: UDP_CKSUM/ }, 'no CSUM: no TX checksum offload');
    t.throws(() => c.ops.configure(1, 1, { txmode: { offloads: TX_OFFLOAD_UDP_CKSUM } }), { message: /TX checksum offload was asked, and the device does not offer VIRTIO_NET_F_CSUM/ });
    t.equal(c.sim.status, 0, 'the device is left reset');
    const i = open({ iommu: true });
    t.throws(() => devConfigure(i.port, 1, 1, {}), { message: /does not offer VIRTIO_F_ACCESS_PLATFORM/ }, 'an IOMMU without ACCESS_PLATFORM is refused');
    const p = open({ features: QEMU_FEATURES & ~S.bit(S.VIRTIO_F_RING_PACKED) }, 'packed');
    t.throws(() => devConfigure(p.port, 1, 1, {}), { message: /packed ring layout was forced .* VIRTIO_F_RING_PACKED/ });
    t.equal(xstatsGet(p.port).find((x) => x.name === 'device_status')?.value, 0, 'device_status xstat: 0, the device reset');
    const r = open({ refuse: true });
    devConfigure(r.port, 1, 1, {});
    rxQueueSetup(r.port, 0, 256, 0, null, pool);
    txQueueSetup(r.port, 0, 256, 0, null);
    t.throws(() => devStart(r.port), { message: /did not accept the features .*VIRTIO_F_VERSION_1.*; the device is reset and every mbuf returned/ });
    t.equal(r.sim.status, 0, 'left reset');
    t.equal(pool.availCount(), avail, 'no mbuf lost');
    for (const x of [d, e, c, i, p, r]) close(x);
    // the pure negotiation
    const n = chooseFeatures(QEMU_FEATURES, { queuePairs: 1, rxCsum: false, txCsum: false, bigFrames: false, ring: 'split', iommu: false, eventIdx: false });
    t.ok(n.missing === null && !S.has(n.features, S.VIRTIO_F_RING_PACKED), 'split forced: RING_PACKED not accepted');
    const m = chooseFeatures(QEMU_FEATURES | S.bit(S.VIRTIO_F_ACCESS_PLATFORM), { queuePairs: 1, rxCsum: false, txCsum: false, bigFrames: false, ring: 'auto', iommu: false, eventIdx: false });
    t.ok(S.has(m.features, S.VIRTIO_F_ACCESS_PLATFORM), 'ACCESS_PLATFORM accepted whenever offered');
  });

  for (const ring of ['split', 'packed'] as const) {
    t.test(`${ring} virtqueues: RX, TX, batching, notifications, reset`, async (t) => {
      const d = open({}, ring, { event_idx: '1' });
      setup(d);
      t.equal(d.sim.packed, ring === 'packed', `${ring} negotiated`);
      t.ok(d.sim.negotiated(S.VIRTIO_F_EVENT_IDX), 'event_idx=1: EVENT_IDX accepted');
      const tx = 1;
      // RX: 100 frames, intact, one publishing store per burst
      let dl = 0;
      for (let i = 0; i < 100; i++) if (d.sim.deliver(raw(60 + i, i))) dl++;
      t.equal(dl, 100, "100 frames delivered");
      const mb = new Uint32Array(32);
      let pubs = 0;
      let got = 0;
      let bad = 0;
      for (let k = 1; k > 0;) {
        pubs += publishes(() => { k = rxBurst(d.port, 0, mb, 32); });
        for (let i = 0; i < k; i++) {
          const b = packetBytes(mb[i]);
          const want = raw(60 + got + i, got + i);
          if (b.length !== want.length || b.some((x, j) => x !== want[j])) bad++;
        }
        pktmbufFreeBulk(mb, k, 0);
        got += k;
      }
      t.equal(got, 100, '100 frames received');
      t.equal(bad, 0, 'every frame intact');
      t.equal(pubs, 4, 'four bursts, one publishing store each (avail idx / first descriptor flags)');
      t.equal(d.sim.kicksOf(0), 0, 'RX: no notification while the device has buffers');
      // TX with EVENT_IDX: the device asks at its next buffer; four bursts without the device running -> one kick
      const before = d.sim.kicksOf(tx);
      let txPubs = 0;
      for (let b = 0; b < 4; b++) {
        const ms = Uint32Array.from({ length: 32 }, (_, i) => mk(raw(64, b * 32 + i)));
        txPubs += publishes(() => t.equal(txBurst(d.port, 0, ms, 32), 32));
      }
      t.equal(txPubs, 4, 'one publishing store per TX burst');
      t.equal(d.sim.kicksOf(tx) - before, 1, 'one notification for four bursts the device had not caught up with');
      const out = d.sim.stepTx(0);
      t.equal(out.length, 128, '128 frames on the wire');
      t.ok(out.every((f, i) => f.bytes.length === 64 && f.bytes[20] === raw(64, i)[20] && f.hdr.every((x) => x === 0)), 'intact, zero net header');
      t.ok(out.every((f) => f.ndesc === 1), 'header pushed into the headroom: one descriptor per packet');
      for (let b = 0; b < 3; b++) txBurst(d.port, 0, Uint32Array.from({ length: 32 }, () => mk(raw(64, 0))), 32);
      t.equal(d.sim.kicksOf(tx) - before, 2, 'after the device caught up, the next burst notifies once');
      d.sim.stepTx(0);
      d.sim.notifyPolicy = 'off';
      d.sim.stepTx(0);
      for (let b = 0; b < 3; b++) txBurst(d.port, 0, Uint32Array.from({ length: 32 }, () => mk(raw(64, 0))), 32);
      t.equal(d.sim.kicksOf(tx) - before, 2, 'no notification when the device asks for none');
      d.sim.notifyPolicy = 'on';
      // wrap-around: many bursts through a 256-entry ring, reclaim keeps up
      let sent = 0;
      for (let b = 0; b < 40; b++) {
        const ms = Uint32Array.from({ length: 32 }, () => mk(raw(100, b)));
        const n = txBurst(d.port, 0, ms, 32);
        if (n < 32) pktmbufFreeBulk(ms, 32 - n, n);
        sent += n;
        sent -= 0;
        d.sim.stepTx(0);
        d.sim.deliver(raw(80, b));
        drain(d, 0);
      }
      t.equal(sent, 40 * 32, 'every packet of 40 bursts sent around the ring');
      const st = xstatsGet(d.port).find((x) => x.name === 'tx_q0_notifications')!;
      t.ok(st.value <= 40 + 2, `TX notifications ${st.value} for ${40 + 4 + 3 + 3} bursts: at most one per burst`);
      // reset with frames in flight: queued TX, filled RX, every mbuf back
      txBurst(d.port, 0, Uint32Array.from({ length: 16 }, () => mk(raw(64, 1))), 16);
      d.sim.deliver(raw(64, 2));
      const resets = d.sim.resets;
      devStop(d.port);
      t.equal(d.sim.resets, resets + 1, 'stop resets the device');
      t.equal(d.sim.busMaster, false, 'and turns DMA off');
      t.equal(pool.availCount(), POOL_N, 'every mbuf back in the pool');
      devStart(d.port);
      t.ok(d.sim.deliver(raw(64, 3)), 'restart: the device has buffers again');
      t.equal(drain(d, 0), 1);
      close(d);
      t.equal(pool.availCount(), POOL_N);
    });

    // QEMU's receive side: it delivers while the ring has buffers, with notifications off; when it finds none it
    // turns them on (EVENT_IDX: at its next avail position and wrap), looks once more, and then waits for a kick
    // before it delivers again (virtio_net_has_buffers). Frames behind it queue in QEMU, and the sender's TX stalls
    // with them: a refill that should notify and does not wedges the link for good. The driver receives in bursts
    // of random size, so its refills end anywhere in the ring, across many wraps.
    for (const eventIdx of [false, true]) {
      t.test(`${ring}, ${eventIdx ? 'EVENT_IDX' : 'no EVENT_IDX'}: a device that waits for a kick once the RX ring runs dry is always kicked`, async (t) => {
        const d = open({}, ring, { event_idx: eventIdx ? '1' : '0' });
        setup(d, 1, {}, 64);
        t.equal(d.sim.negotiated(S.VIRTIO_F_EVENT_IDX), eventIdx);
        const mb = new Uint32Array(32);
        const TOTAL = 20000;
        let seed = 12345;
        const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
        let delivered = 0;
        let received = 0;
        let waits = 0;
        let stalls = 0;
        let waitingSince = -1; // the device's kick count when it began to wait, or -1 while it delivers
        const offer = (): void => {
          if (waitingSince >= 0) {
            if (d.sim.kicksOf(0) === waitingSince) return;
            waitingSince = -1;
          }
          for (let b = rnd(48) + 1; b > 0 && delivered < TOTAL; b--) {
            d.sim.notifyPolicy = 'off';
            d.sim.armNotify(0);
            if (d.sim.deliver(raw(60, delivered))) { delivered++; continue; }
            d.sim.notifyPolicy = 'on';
            d.sim.armNotify(0);
            if (d.sim.deliver(raw(60, delivered))) { delivered++; continue; }
            waitingSince = d.sim.kicksOf(0);
            waits++;
            return;
          }
        };
        while (received < TOTAL) {
          offer();
          const k = rxBurst(d.port, 0, mb, rnd(32) + 1);
          pktmbufFreeBulk(mb, k, 0);
          received += k;
          if (k === 0 && waitingSince >= 0 && d.sim.kicksOf(0) === waitingSince) { stalls++; break; }
        }
        d.sim.notifyPolicy = 'on';
        t.equal(stalls, 0, 'never a ring with buffers the device was not told of');
        t.equal(received, TOTAL, `all ${TOTAL} frames received through a 64-entry ring`);
        t.ok(waits > 100, `the device ran dry and waited ${waits} times`);
        t.ok(d.sim.kicksOf(0) >= waits && d.sim.kicksOf(0) <= received, `and was kicked (${d.sim.kicksOf(0)} kicks): once per wait at least, at most once per burst`);
        devStop(d.port);
        t.equal(pool.availCount(), POOL_N, 'every mbuf back');
        close(d);
      });
    }

    t.test(`${ring}: the data path allocates nothing`, async (t) => {
      const d = open({}, ring);
      setup(d);
      d.sim.notifyPolicy = 'off'; // no notifications: the sim's kick counter would be the only heap user
      d.sim.armNotify(0);
      d.sim.armNotify(1);
      const mb = new Uint32Array(32);
      // RX -> TX through the driver, the device side typed arrays only (sim.fastDeliver / fastComplete)
      const run = (rounds: number): number => {
        let moved = 0;
        for (let r = 0; r < rounds; r++) {
          d.sim.fastDeliver(0, 32, 60);
          const k = rxBurst(d.port, 0, mb, 32);
          const s = txBurst(d.port, 0, mb, k);
          if (s < k) pktmbufFreeBulk(mb, k - s, s);
          moved += s;
          d.sim.fastComplete(0);
        }
        return moved;
      };
      run(20000); // the JIT optimises the loops (in the background: a window may still catch a tier-up)
      const windows: Array<{ moved: number; gcs: number; allocated: number }> = [];
      for (let i = 0; i < 3; i++) {
        const gc = new v8.GCProfiler();
        gc.start();
        const h0 = v8.getHeapStatistics().used_heap_size;
        const moved = run(10000);
        const h1 = v8.getHeapStatistics().used_heap_size;
        const st = gc.stop().statistics;
        const freed = st.reduce((x, g) => x + g.beforeGC.heapStatistics.usedHeapSize - g.afterGC.heapStatistics.usedHeapSize, 0);
        windows.push({ moved, gcs: st.length, allocated: h1 - h0 + freed });
      }
      t.comment(`windows of 320,000 packets: ${windows.map((w) => `${w.allocated} bytes, ${w.gcs} GCs`).join('; ')}`);
      t.ok(windows.every((w) => w.moved === 10000 * 32), 'every frame forwarded RX -> TX');
      const best = windows.reduce((x, w) => (w.allocated < x.allocated ? w : x));
      t.equal(best.gcs, 0, 'no garbage collection in a steady-state window');
      // the heap-statistics calls allocate their own results (under 1 KiB)
      t.ok(best.allocated < 16 * 1024, `a steady-state window allocated ${best.allocated} bytes for 320,000 packets`);
      devStop(d.port);
      t.equal(pool.availCount(), POOL_N, 'every mbuf back');
      close(d);
    });

    t.test(`${ring}: no EVENT_IDX (NO_NOTIFY), IN_ORDER batched completions`, async (t) => {
      const d = open({ features: (QEMU_FEATURES & ~S.bit(S.VIRTIO_F_EVENT_IDX)) | S.bit(S.VIRTIO_F_IN_ORDER) }, ring);
      setup(d, 1, {}, 64);
      t.ok(d.sim.negotiated(S.VIRTIO_F_IN_ORDER) && !d.sim.negotiated(S.VIRTIO_F_EVENT_IDX));
      d.sim.batchUsed = true;
      const k0 = d.sim.kicksOf(1);
      for (let b = 0; b < 3; b++) txBurst(d.port, 0, Uint32Array.from({ length: 8 }, () => mk(raw(64, b))), 8);
      t.equal(d.sim.kicksOf(1) - k0, 3, 'without EVENT_IDX and NO_NOTIFY clear: one notification per burst');
      d.sim.notifyPolicy = 'off';
      t.equal(d.sim.stepTx(0).length, 24);
      txBurst(d.port, 0, Uint32Array.from({ length: 8 }, () => mk(raw(64, 9))), 8);
      t.equal(d.sim.kicksOf(1) - k0, 3, 'NO_NOTIFY set: none');
      // 400 packets through a 64-entry ring completed in batches of one used entry
      let sent = 0;
      for (let b = 0; b < 50; b++) {
        const ms = Uint32Array.from({ length: 8 }, () => mk(raw(70, b)));
        const n = txBurst(d.port, 0, ms, 8);
        if (n < 8) pktmbufFreeBulk(ms, 8 - n, n);
        sent += n;
        if (b % 3 === 2) d.sim.stepTx(0);
      }
      d.sim.stepTx(0);
      t.equal(sent, 400, 'batched completions free every buffer');
      devStop(d.port);
      t.equal(pool.availCount(), POOL_N, 'no mbuf lost');
      close(d);
    });

    t.test(`${ring}: TX fuzz: bursts of single packets and chains, a device that lags; every accepted frame sent once, intact, in order`, async (t) => {
      const d = open({}, ring, { event_idx: '1' });
      setup(d, 1, { txmode: { offloads: TX_OFFLOAD_MULTI_SEGS } });
      const r = txFuzz({
        port: d.port, queue: 0, pool, nb: 256, rounds: 1500,
        stepTx: (q, max) => d.sim.stepTx(q, max === undefined ? undefined : max >> 2).map((f) => ({ bytes: f.bytes, vlan: -1 })),
      });
      t.same(r.errors, [], 'no frame lost, repeated, reordered or corrupted');
      t.equal(r.missing, 0, `every accepted frame was sent (${r.frames} frames, ${r.chains} of 5 segments)`);
      devStop(d.port);
      t.equal(pool.availCount(), POOL_N, 'no mbuf lost');
      close(d);
    });

    t.test(`${ring}: mergeable jumbo RX, multi-segment TX, checksums`, async (t) => {
      const d = open({ mtu: 9000, features: QEMU_FEATURES | S.bit(S.VIRTIO_NET_F_MTU) }, ring);
      setup(d, 1, { rxmode: { mtu: 9000, offloads: RX_OFFLOAD_UDP_CKSUM | RX_OFFLOAD_TCP_CKSUM }, txmode: { offloads: TX_OFFLOAD_UDP_CKSUM | TX_OFFLOAD_MULTI_SEGS } });
      t.equal(devInfoGet(d.port).maxMtu, 9000, 'max MTU from VIRTIO_NET_F_MTU');
      const big = raw(9014, 5);
      t.ok(d.sim.deliver(big), 'a 9014-byte frame over mergeable buffers');
      let segs = 0;
      t.equal(drain(d, 0, (m) => {
        segs = nbSegs(m);
        t.equal(pktLen(m), 9014);
        t.same([...packetBytes(m)].slice(0, 64), [...big].slice(0, 64));
        t.ok(packetBytes(m).every((x, i) => x === big[i]), 'jumbo frame intact across the chain');
        t.equal(dataOff(next(m)), 128 - 12, 'later buffers start where the header would be');
      }), 1);
      t.equal(segs, 5, 'five 2060-byte buffers make one chain');
      // RX checksum flags
      d.sim.deliver(raw(64, 1), 0, S.VIRTIO_NET_HDR_F_DATA_VALID);
      d.sim.deliver(raw(64, 1), 0, S.VIRTIO_NET_HDR_F_NEEDS_CSUM);
      d.sim.deliver(raw(64, 1), 0, 0);
      const flags: number[] = [];
      drain(d, 0, (m) => flags.push(olFlags(m) & RX_L4_CKSUM_MASK));
      t.same(flags, [RX_L4_CKSUM_GOOD, RX_L4_CKSUM_MASK, 0], 'DATA_VALID -> L4 good, NEEDS_CSUM -> L4 none (valid, field unfilled)');
      // multi-segment TX: three segments, header in the headroom of the first
      const a = mk(raw(100, 1).subarray(0, 40));
      chain(a, mk(raw(100, 1).subarray(40, 70)));
      chain(a, mk(raw(100, 1).subarray(70, 100)));
      t.equal(txBurst(d.port, 0, Uint32Array.of(a), 1), 1);
      // a packet whose headroom is too small: the header gets its own descriptor
      const b = mk([]);
      setDataOff(b, 4);
      append(b, 64);
      writeData(b, raw(64, 7));
      t.equal(txBurst(d.port, 0, Uint32Array.of(b), 1), 1);
      // TX checksum: UDP with the pseudo-header sum in the field
      const f = flowFrame({ proto: 'udp', src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 1000, dport: 2000, payload: 100 });
      const ps = pseudoHeaderSum(f);
      f[40] = ps >> 8;
      f[41] = ps & 0xff;
      const c = mk(f);
      setOlFlags(c, TX_UDP_CKSUM | TX_IPV4);
      setTxLens(c, 14, 20);
      t.equal(txBurst(d.port, 0, Uint32Array.of(c), 1), 1);
      const out = d.sim.stepTx(0);
      t.equal(out.length, 3);
      t.same([...out[0].bytes], [...raw(100, 1)], 'three segments leave as one frame');
      t.equal(out[0].ndesc, 3, 'in three descriptors');
      t.same([...out[1].bytes], [...raw(64, 7)], 'headroom too small: intact');
      t.equal(out[1].ndesc, 2, 'header in its own descriptor');
      const h = out[2].hdr;
      t.equal(h[0], S.VIRTIO_NET_HDR_F_NEEDS_CSUM, 'NEEDS_CSUM');
      t.equal(h[6] | (h[7] << 8), 34, 'csum_start = l2 + l3');
      t.equal(h[8] | (h[9] << 8), 6, 'csum_offset of UDP');
      t.ok(parse(out[2].bytes).l4Ok, 'the device completed a correct UDP checksum');
      devStop(d.port);
      t.equal(pool.availCount(), POOL_N, 'no mbuf lost');
      close(d);
    });
  }

  /** The RX queue's driver area as the device reads it: split avail flags / used_event, packed driver event. */
  function driverArea(d: Dev, q: number): { flags: number; event: number } {
    const spec = xrx.get(d.port)![q] as { driverArea: number; nb: number; layout: string };
    const u16 = mem().u16;
    if (spec.layout === 'split') return { flags: u16[(spec.driverArea + S.VIRTQ_AVAIL.flags) >> 1], event: u16[(spec.driverArea + S.VIRTQ_AVAIL.ring + 2 * spec.nb) >> 1] };
    return { flags: u16[(spec.driverArea + S.PVIRTQ_EVENT.flags) >> 1], event: u16[(spec.driverArea + S.PVIRTQ_EVENT.off_wrap) >> 1] };
  }
  const xrx = new Map<number, unknown[]>();
  /** setup() with intrConf, keeping the RX queue specs the driver returned. */
  function setupIntr(d: Dev, pairs: number, conf: EthConf): void {
    const specs: unknown[] = [];
    const orig = d.ops.rxQueueSetup.bind(d.ops);
    d.ops.rxQueueSetup = (...a: Parameters<EthDevOps['rxQueueSetup']>) => { const x = orig(...a); specs[a[0]] = x; return x; };
    xrx.set(d.port, specs);
    setup(d, pairs, conf);
  }
  const fdOpen = (fd: number) => ffi.fcntl(fd, 1 /* F_GETFD */, 0) >= 0;

  for (const ring of ['split', 'packed'] as const) {
    for (const ei of [false, true]) {
      t.test(`RX interrupts, ${ring}${ei ? ' + EVENT_IDX' : ''}: vectors, arm / disarm writes, wake-up, teardown`, async (t) => {
        const d = open({}, ring, ei ? { event_idx: '1' } : {});
        setupIntr(d, 2, { intrConf: { rxq: true } });
        t.equal(d.sim.negotiated(S.VIRTIO_F_EVENT_IDX), ei, `EVENT_IDX ${ei ? 'on' : 'off'}`);
        t.same([d.sim.vectorOf(S.rxVq(0)), d.sim.vectorOf(S.rxVq(1))], [1, 2], 'queue_msix_vector: RX queue q -> vector q + 1 (read back)');
        t.same([d.sim.vectorOf(S.txVq(0)), d.sim.vectorOf(S.txVq(1)), d.sim.vectorOf(d.sim.ctrlVq())], [0xffff, 0xffff, 0xffff], 'TX and control queues: VIRTIO_MSI_NO_VECTOR');
        t.equal(d.sim.configVector, 0xffff, 'msix_config: no vector without intrConf.lsc');
        t.equal(d.sim.msixFds.length, 3, 'three eventfds bound through VFIO (config + 2 RX queues)');
        const src = d.ops.rxIntrSource!(1);
        t.same(src, { fd: d.sim.msixFds[2], kind: 'eventfd' }, "RX queue 1's source: vector 2's eventfd");
        // starts disarmed: a frame interrupts nobody
        t.ok(d.sim.deliver(raw(64, 1)));
        t.equal(d.sim.irqsOf(S.rxVq(0)), 0, 'starts disarmed: no interrupt');
        t.equal(drain(d, 0), 1);
        // arm: the write the device reads
        rxIntrEnable(d.port, 0);
        const a = driverArea(d, 0);
        if (ring === 'split' && !ei) t.equal(a.flags & S.VIRTQ_AVAIL_F_NO_INTERRUPT, 0, 'intrEnable: NO_INTERRUPT cleared');
        if (ring === 'split' && ei) t.equal(a.event, 1, 'intrEnable: used_event = the next used index (1)');
        if (ring === 'packed' && !ei) t.equal(a.flags, S.RING_EVENT_FLAGS_ENABLE, 'intrEnable: driver event flags ENABLE');
        if (ring === 'packed' && ei) t.same(a, { flags: S.RING_EVENT_FLAGS_DESC, event: 1 | (1 << 15) }, 'intrEnable: DESC at the next used slot (1, wrap 1)');
        t.ok(d.sim.deliver(raw(64, 2)));
        t.equal(d.sim.irqsOf(S.rxVq(0)), 1, 'armed: the next frame interrupts');
        t.equal(eventfdDrain(d.ops.rxIntrSource!(0).fd), 1, "and signals RX queue 0's eventfd");
        t.equal(d.sim.irqsOf(S.rxVq(1)), 0, 'not queue 1');
        rxIntrDisable(d.port, 0);
        const b = driverArea(d, 0);
        if (ring === 'split' && !ei) t.equal(b.flags, S.VIRTQ_AVAIL_F_NO_INTERRUPT, 'intrDisable: NO_INTERRUPT set');
        if (ring === 'split' && ei) t.equal(b.event, 0, 'intrDisable: used_event one behind the next used index');
        if (ring === 'packed') t.equal(b.flags, S.RING_EVENT_FLAGS_DISABLE, 'intrDisable: driver event flags DISABLE');
        for (let i = 0; i < 5; i++) d.sim.deliver(raw(64, 3 + i));
        t.equal(d.sim.irqsOf(S.rxVq(0)), 1, 'disarmed: five frames, no interrupt');
        t.equal(drain(d, 0), 6);
        // ethdev's arm-then-poll: a frame waiting -> returned and disarmed; none -> armed, and the wait wakes
        d.sim.deliver(raw(64, 9));
        const mb = new Uint32Array(32);
        const got = rxIntrArm(d.port, 0, mb, 32);
        t.equal(got, 1, 'rxIntrArm: the frame that raced the arm is returned');
        pktmbufFreeBulk(mb, got, 0);
        d.sim.deliver(raw(64, 10));
        t.equal(d.sim.irqsOf(S.rxVq(0)), 1, '... and the queue disarmed again');
        t.equal(drain(d, 0), 1);
        rxIntrCtlQ(d.port, 0, 'add');
        t.equal(rxIntrArm(d.port, 0, mb, 32), 0, 'empty: armed');
        t.equal(rxIntrWait(0, new Uint32Array(4)), 0, 'nothing to wake for');
        d.sim.deliver(raw(64, 11));
        const woken = new Uint32Array(4);
        t.equal(rxIntrWait(1000, woken), 1, 'rxIntrWait wakes on the interrupt');
        t.equal(woken[0], (d.port << 16) | 0, 'for port / queue 0');
        rxIntrDisable(d.port, 0);
        t.equal(drain(d, 0), 1);
        rxIntrCtlQ(d.port, 0, 'del');
        rxIntrRelease();
        // teardown: vectors unbound, eventfds closed, reset forgets the vectors, every mbuf back
        const fds = [...d.sim.msixFds];
        const off = d.sim.irqDisables;
        devStop(d.port);
        t.equal(d.sim.irqDisables, off + 1, 'stop: MSI-X unbound (VFIO)');
        t.ok(fds.every((fd) => !fdOpen(fd)), 'the eventfds closed');
        t.equal(d.sim.vectorOf(S.rxVq(0)), 0xffff, 'the reset took the vectors back');
        t.throws(() => d.ops.rxIntrSource!(0), /intrConf\.rxq and start it/, 'no source after stop');
        t.equal(pool.availCount(), POOL_N, 'every mbuf back');
        devStart(d.port);
        t.same([d.sim.vectorOf(S.rxVq(0)), d.sim.msixFds.length], [1, 3], 'restart: vectors and eventfds again');
        close(d);
        t.equal(d.sim.msixFds.length, 0, 'close: unbound');
        t.equal(pool.availCount(), POOL_N);
      });
    }
  }

  t.test('RX interrupts: lsc vector, refusals, ports without intrConf', async (t) => {
    const l = open({}, 'split');
    setupIntr(l, 1, { intrConf: { rxq: true, lsc: true } });
    t.equal(l.sim.configVector, 0, 'intrConf.lsc: msix_config = vector 0');
    t.equal((l.ops as unknown as { lscIntrSource(): { fd: number } }).lscIntrSource().fd, l.sim.msixFds[0], "link source: vector 0's eventfd");
    close(l);
    // VFIO offers too few vectors
    const few = open({ msixVectors: 2 }, 'split');
    t.throws(() => setup(few, 2, { intrConf: { rxq: true } }),
      { message: /interrupts need 3 MSI-X vectors \(configuration \+ 2 RX queues\), the function offers 2: give QEMU -device virtio-net-pci,\.\.\.,vectors=3/ }, 'too few vectors: says how many and how');
    t.equal(few.sim.status, 0, 'device reset');
    t.equal(pool.availCount(), POOL_N, 'every mbuf back');
    close(few);
    // the device refuses the vector it was given (reads back VIRTIO_MSI_NO_VECTOR)
    const ref = open({ vectorLimit: 1 }, 'packed');
    t.throws(() => setup(ref, 1, { intrConf: { rxq: true } }),
      { message: /start failed: the device refused MSI-X vector 1 for virtqueue 0 \(read back 0xffff\).*vectors=N/ }, 'refused vector: a clear error');
    t.equal(ref.sim.status, 0, 'device reset');
    t.equal(ref.sim.msixFds.length, 0, 'vectors unbound');
    t.equal(pool.availCount(), POOL_N, 'every mbuf back');
    close(ref);
    const noIrq = open({ noIrq: true }, 'split');
    t.throws(() => setup(noIrq, 1, { intrConf: { rxq: true } }), /no VFIO interrupt access/, 'no VFIO interrupt access: said');
    close(noIrq);
    // without intrConf: no vectors, no eventfds, no intrEnable
    const plain = open({}, 'split');
    setup(plain, 1);
    t.same([plain.sim.vectorOf(S.rxVq(0)), plain.sim.configVector, plain.sim.msixFds.length], [0xffff, 0xffff, 0], 'no vectors, nothing bound');
    t.throws(() => rxIntrEnable(plain.port, 0), /not configured with intrConf\.rxq/);
    t.throws(() => plain.ops.rxIntrSource!(0), /intrConf\.rxq/);
    plain.sim.deliver(raw(64, 1));
    t.equal(plain.sim.irqsOf(S.rxVq(0)), 0, 'rings keep interrupts suppressed');
    t.equal(drain(plain, 0), 1);
    close(plain);
    t.equal(pool.availCount(), POOL_N);
  });

  t.test('packed_vq devarg: -a BDF,packed_vq=0|1 forces the ring layout', async (t) => {
    const c = parseEalArgs(['-a', '00:05.0,packed_vq=0', '-a', '0000:00:06.0', '--']).config;
    t.same(c.allow, ['0000:00:05.0', '0000:00:06.0'], 'the address is the part before the comma');
    t.same(c.allowArgs, { '0000:00:05.0': 'packed_vq=0' }, 'the rest are driver arguments');
    t.same(pmd.vdevArgs, ['packed_vq', 'event_idx']);
    for (const [v, packed] of [['0', false], ['1', true]] as const) {
      const sim = new VirtioNetSim(`vsimdv${v}`);
      setPciAccessProvider((b) => sim.access(b));
      const ops = pmd.probePci!('0000:00:30.0', null as never, new Map([['packed_vq', v]]));
      ops.configure(1, 1, {});
      t.equal(S.has((ops as unknown as { negotiatedFeatures(): bigint }).negotiatedFeatures(), S.VIRTIO_F_RING_PACKED), packed, `packed_vq=${v}`);
      ops.close();
      sim.release();
    }
    const sim = new VirtioNetSim('vsimdvx');
    setPciAccessProvider((b) => sim.access(b));
    t.throws(() => pmd.probePci!('0000:00:31.0', null as never, new Map([['packed_vq', 'yes']])), { message: /packed_vq=yes: expected 0 \(split virtqueues\) or 1/ });
    t.throws(() => pmd.probePci!('0000:00:31.0', null as never, new Map([['event_idx', 'on']])), { message: /event_idx=on: expected 0 .* or 1/ });
    sim.release();
  });

  t.test('multi-queue: two queue pairs through VIRTIO_NET_CTRL_MQ', async (t) => {
    const d = open({ maxPairs: 4 });
    setup(d, 2);
    t.equal(d.sim.pairs, 2, 'VQ_PAIRS_SET 2');
    t.ok(d.sim.ctrlLog.some(([c, m, data]) => c === S.VIRTIO_NET_CTRL_MQ && m === 0 && data[0] === 2), 'sent on the control virtqueue (vq 8)');
    for (let i = 0; i < 20; i++) d.sim.deliver(raw(64, i), i & 1);
    t.equal(drain(d, 0), 10, 'queue 0 received its half');
    t.equal(drain(d, 1), 10, 'queue 1 received its half');
    txBurst(d.port, 1, Uint32Array.from({ length: 5 }, () => mk(raw(64, 1))), 5);
    txBurst(d.port, 0, Uint32Array.from({ length: 3 }, () => mk(raw(64, 1))), 3);
    t.equal(d.sim.stepTx(1).length, 5, 'TX queue 1 -> virtqueue 3');
    t.equal(d.sim.stepTx(0).length, 3, 'TX queue 0 -> virtqueue 1');
    devStop(d.port);
    t.throws(() => devConfigure(d.port, 5, 5, {}), { message: /5 RX queues asked, net_virtio has at most 4/ });
    close(d);
    t.equal(pool.availCount(), POOL_N);
  });

  t.test("l2fwd's forwarding loop between two simulated ports", async (t) => {
    const a = open({}, 'split');
    const b = open({ mac: [0x52, 0x54, 0, 0, 0, 2] }, 'packed');
    setup(a);
    setup(b);
    const z = memzoneReserve('l2fwd', (MAX_PORTS * 4 + 16) * 8 + 4096);
    const st = new Float64Array(mem().buf, z.off, MAX_PORTS * 4 + 16);
    st.fill(0);
    const dst = new Array(MAX_PORTS).fill(-1);
    dst[a.port] = b.port;
    dst[b.port] = a.port;
    const macs: number[][] = [];
    macs[a.port] = [...macAddrGet(a.port)];
    macs[b.port] = [...macAddrGet(b.port)];
    const args: FwdArgs = { rxPorts: [a.port, b.port], dst, macUpdating: true, macs, maxIterations: 50 };
    const N = 2000;
    let inA = 0;
    let inB = 0;
    let outA = 0;
    let outB = 0;
    for (let round = 0; round < 400 && (outA < N || outB < N); round++) {
      for (let i = 0; i < 16 && inA < N; i++) if (a.sim.deliver(raw(64 + (inA % 64), inA))) inA++;
      for (let i = 0; i < 16 && inB < N; i++) if (b.sim.deliver(raw(128, inB))) inB++;
      l2fwdMainLoop(args);
      for (const f of b.sim.stepTx(0)) {
        if (f.bytes[5] === b.port && f.bytes.length === 64 + (outB % 64)) outB++;
      }
      outA += a.sim.stepTx(0).length;
    }
    t.equal(outB, N, `${N} frames from port A left port B, MACs rewritten`);
    t.equal(outA, N, `${N} frames the other way`);
    t.equal(st[a.port * 4 + ST_RX], N);
    t.equal(st[b.port * 4 + ST_TX], N);
    t.equal(st[a.port * 4 + ST_DROP] + st[b.port * 4 + ST_DROP], 0, 'nothing dropped');
    devStop(a.port);
    devStop(b.port);
    t.equal(pool.availCount(), POOL_N, 'every mbuf back');
    close(a);
    close(b);
    memzoneFree('l2fwd');
  });
  t.test('queues polled on a worker lcore: specs attached there, the device stepped from the main lcore', async (t) => {
    const a = open({}, 'split');
    const b = open({ mac: [0x52, 0x54, 0, 0, 0, 3] }, 'packed');
    // port A's 128-entry RX ring bounds what is in flight below port B's 256 TX descriptors: nothing to drop
    setup(a, 1, {}, 128);
    setup(b);
    const z = memzoneReserve('l2fwd', (MAX_PORTS * 4 + 16) * 8 + 4096);
    new Float64Array(mem().buf, z.off, MAX_PORTS * 4 + 16).fill(0);
    const dst = new Array(MAX_PORTS).fill(-1);
    dst[a.port] = b.port;
    dst[b.port] = a.port;
    remoteLaunch(1, new URL('../examples/l2fwd/fwd.ts', import.meta.url), { rxPorts: [a.port, b.port], dst, macUpdating: false, macs: [] });
    const N = 3000;
    const t0 = Date.now();
    a.sim.deliver(raw(60, 0));
    while (statsGet(a.port).ipackets === 0 && Date.now() - t0 < 60000) await new Promise((r) => setTimeout(r, 50));
    t.comment(`worker polling after ${Date.now() - t0} ms`);
    let sent = 1;
    let out = 0;
    let intact = 0;
    const collect = () => {
      for (const f of b.sim.stepTx(0)) {
        const want = raw(60 + (out % 200), out);
        if (f.bytes.length === want.length && f.bytes.every((x, k) => x === want[k])) intact++;
        out++;
      }
    };
    for (const end = Date.now() + 30000; Date.now() < end && out < N;) {
      for (let j = 0; j < 32 && sent < N; j++) if (a.sim.deliver(raw(60 + (sent % 200), sent))) sent++;
      collect();
      await new Promise((r) => setTimeout(r, 1)); // timers run: the main lcore keeps the lcores' clock
    }
    requestQuit();
    await waitLcore(1);
    clearQuit();
    collect(); // what the last bursts before the quit sent
    const drops = new Float64Array(mem().buf, z.off, MAX_PORTS * 4 + 16)[b.port * 4 + ST_DROP];
    t.equal(drops, 0, 'l2fwd dropped nothing');
    t.equal(out, N, `${N} frames forwarded by lcore 1 from a split-ring port to a packed-ring port`);
    t.equal(intact, N, 'in order and intact');
    devStop(a.port);
    devStop(b.port);
    t.equal(pool.availCount(), POOL_N, 'every mbuf back');
    close(a);
    close(b);
    memzoneFree('l2fwd');
  });
});
