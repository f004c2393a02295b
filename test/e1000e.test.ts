// net_e1000e against a simulated 82574 register file (test/helpers/e1000e-sim.ts): probe, MAC, queue setup,
// RX/TX bursts through ethdev (JSON spec round trip, BAR view from the spec), doorbells, reclaim, nombuf, stop
// returning every mbuf, restart, modes, hardware statistics, close.
import t from 'tap';
import { ealInit, ealCleanup, mem } from '../src/eal/index.js';
import { pktmbufPoolCreate, pktmbufAllocBulk, writeData, dataLen, pktLen, mtod, packetBytes, pktmbufFreeBulk, chain, append, dataIova, type Mempool } from '../src/mempool/mbuf.js';
import {
  ethDevAllocate, devConfigure, rxQueueSetup, txQueueSetup, devStart, devStop, devClose, rxBurst, txBurst, statsGet,
  macAddrGet, formatMac, promiscuousEnable, promiscuousDisable, allmulticastEnable, allmulticastDisable, linkGet,
  xstatsGet, devInfoGet, statsReset,
} from '../src/ethdev/ethdev.js';
import { pmd as e1000ePmd } from '../src/pmd/intel/e1000e/e1000e.js';
import { setPciAccessProvider } from '../src/pmd/pci/access.js';
import * as R from '../src/pmd/intel/e1000e/regs.js';
import type { Vfio } from '../src/vfio/index.js';
import { E1000eSim, spyDoorbells, ERR_CE, ERR_IPE, ST_IPCS, ST_TCPCS, ST_UDPCS } from './helpers/e1000e-sim.js';
import { WB_VP } from './helpers/intel-sim.js';
import { txFuzz, randomBelow } from './helpers/tx-fuzz.js';
import * as pktio from '../src/index.js';
import * as mbuf from '../src/mempool/mbuf.js';
import * as ffi from '../src/eal/ffi.js';
import { intelDataPlane } from '../src/pmd/intel/common/pmd.js';
import { eventfdDrain } from '../src/vfio/irq.js';

// legacy TX descriptor command bits (82574 7.2.10.1), in w2
const TXD_CMD_EOP = 1 << 24;
const TXD_CMD_IFCS = 1 << 25;
const TXD_CMD_RS = 1 << 27;

const BDF = '0000:00:03.0';
const NB = 64;
const POOL_N = 1023;

function frame(len: number, seed: number): Uint8Array {
  const f = new Uint8Array(len);
  for (let i = 0; i < len; i++) f[i] = (i * 7 + seed) & 0xff;
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0);
  return f;
}

t.test('e1000e on a simulated 82574', async (t) => {
  await ealInit(['--no-huge', '-m', '64', '-l', '0']);
  t.teardown(ealCleanup);
  const pool: Mempool = pktmbufPoolCreate('e1k_pool', POOL_N, 32);
  const sim = new E1000eSim();
  setPciAccessProvider((bdf) => sim.access(bdf));
  t.teardown(() => setPciAccessProvider(null));

  const t0 = Date.now();
  const probeSpy = spyDoorbells();
  const ops = e1000ePmd.probePci!(BDF, null as unknown as Vfio);
  probeSpy.restore();
  t.ok(Date.now() - t0 < 1000, 'reset and probe take well under a second');
  const port = ethDevAllocate(BDF, ops, e1000ePmd);
  t.ok(e1000ePmd.pciIds!.some((p) => p.vendor === 0x8086 && p.device === 0x10d3), 'claims 8086:10d3');

  t.test('reset and MAC', async (t) => {
    t.equal(formatMac(macAddrGet(port)), '52:54:00:12:34:56', 'MAC from RAL0/RAH0');
    t.equal(sim.get(R.IMC), 0xffffffff, 'interrupts masked');
    const w = probeSpy.writes;
    const rst = w.findIndex(([r, v]) => r === R.CTRL && (v & R.CTRL_RST) !== 0);
    t.ok(rst > 0, 'CTRL.RST written');
    t.ok(w.slice(0, rst).some(([r, v]) => r === R.IMC && v === 0xffffffff), 'interrupts masked before the reset');
    t.ok(w.slice(rst).some(([r, v]) => r === R.IMC && v === 0xffffffff), 'and again after it');
    t.ok(sim.get(R.CTRL) & R.CTRL_SLU, 'CTRL.SLU set');
    t.equal(sim.get(R.RCTL), 0, 'RX off after reset');
    const info = devInfoGet(port);
    t.equal(info.driverName, 'net_e1000e');
    t.equal(info.pciAddr, BDF);
    t.same(linkGet(port, false), { up: true, speed: 1000, fullDuplex: true, autoneg: true }, 'link from STATUS');
    const st = sim.get(R.STATUS);
    sim.set(R.STATUS, R.STATUS_LU | (1 << R.STATUS_SPEED_SHIFT));
    t.same(linkGet(port, false), { up: true, speed: 100, fullDuplex: false, autoneg: true }, '100 Mb/s half duplex');
    sim.set(R.STATUS, 0);
    t.equal(linkGet(port, false).up, false, 'link down');
    sim.set(R.STATUS, st);
  });

  t.test('setup and start program the rings', async (t) => {
    devConfigure(port, 1, 1);
    rxQueueSetup(port, 0, NB, 0, null, pool);
    txQueueSetup(port, 0, NB, 0, null);
    devStart(port);
    t.ok(sim.busMaster, 'bus mastering on');
    const rctl = sim.get(R.RCTL);
    t.ok(rctl & R.RCTL_EN, 'RCTL.EN');
    t.ok(rctl & R.RCTL_BAM, 'broadcast accept');
    t.ok(rctl & R.RCTL_SECRC, 'CRC strip');
    t.equal(rctl & (R.RCTL_BSIZE_MASK | R.RCTL_BSEX | R.RCTL_LPE | R.RCTL_DTYP_MASK), 0, '2048-byte buffers, no long frames, no packet split');
    t.equal(rctl & (R.RCTL_UPE | R.RCTL_MPE), 0, 'not promiscuous');
    t.equal(sim.get(R.RDLEN(0)), NB * 16);
    t.equal(sim.get(R.RDH(0)), 0);
    t.equal(sim.get(R.RDT(0)), NB - 1, 'RDT: every descriptor but one given to the NIC');
    t.ok(sim.get(R.RFCTL) & R.RFCTL_EXSTEN, 'extended RX descriptors');
    t.equal(sim.get(R.RDBAL(0)) % 128, 0, 'ring aligned');
    const tctl = sim.get(R.TCTL);
    t.ok((tctl & (R.TCTL_EN | R.TCTL_PSP)) === (R.TCTL_EN | R.TCTL_PSP), 'TCTL.EN|PSP');
    t.equal(sim.get(R.TIPG), R.TIPG_DEFAULT);
    t.equal(sim.get(R.TDLEN(0)), NB * 16);
    t.equal(sim.get(R.TDT(0)), 0);
    t.equal(pool.availCount(), POOL_N - NB, 'RX ring filled from the pool');
    const r = mem();
    const w = sim.rxDesc(0, 5);
    t.not(r.u32[w] + r.u32[w + 1], 0, 'descriptors hold buffer addresses');
  });

  t.test('RX burst', async (t) => {
    const lens = [60, 100, 1514];
    lens.forEach((l, i) => t.ok(sim.deliver(frame(l, i)), `frame ${i} delivered`));
    const spy = spyDoorbells();
    const mbufs = new Uint32Array(32);
    const n = rxBurst(port, 0, mbufs, 32);
    spy.restore();
    t.equal(n, 3, 'three frames');
    t.same([...spy.counts.entries()], [], 'no register store yet: RDT waits for NB / 4 re-armed descriptors');
    t.equal(sim.get(R.RDT(0)), NB - 1, 'RDT unchanged');
    for (let i = 0; i < 13; i++) sim.deliver(frame(64, 100 + i));
    const more = new Uint32Array(32);
    const spy2 = spyDoorbells();
    t.equal(rxBurst(port, 0, more, 32), 13, 'thirteen more');
    spy2.restore();
    t.same([...spy2.counts.entries()], [[R.RDT(0), 1]], 'then exactly one register store: RDT');
    t.equal(sim.get(R.RDT(0)), 15, 'RDT = last re-armed descriptor');
    pktmbufFreeBulk(more, 13, 0);
    for (let i = 0; i < n; i++) {
      t.equal(pktLen(mbufs[i]), lens[i], `pkt_len ${lens[i]}`);
      t.equal(dataLen(mbufs[i]), lens[i]);
      t.same(packetBytes(mbufs[i]), frame(lens[i], i), `data of frame ${i}`);
    }
    t.equal(rxBurst(port, 0, mbufs, 32), 0, 'nothing more');
    const s = statsGet(port);
    t.equal(s.qIpackets[0], 3 + 13);
    t.equal(s.qIbytes[0], 60 + 100 + 1514 + 13 * 64);
    t.equal(pool.availCount(), POOL_N - NB - 3, 'the three are the application\'s, the ring is full again');
    pktmbufFreeBulk(mbufs, n, 0);

    // the ring wraps: more frames than descriptors, in bursts
    let got = 0;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 40; i++) t.ok(sim.deliver(frame(64, round * 40 + i)) || true);
      let k;
      while ((k = rxBurst(port, 0, mbufs, 32)) > 0) {
        for (let i = 0; i < k; i++) {
          if (pktLen(mbufs[i]) !== 64) t.fail('bad length after wrap');
        }
        got += k;
        pktmbufFreeBulk(mbufs, k, 0);
      }
    }
    t.equal(got, 200, '200 frames across wraps');
    t.equal(pool.availCount(), POOL_N - NB, 'no mbuf lost');
  });

  t.test('RX drops bad frames, their buffers go back to the pool', async (t) => {
    const before = statsGet(port).qErrors[0];
    sim.deliver(frame(80, 1), { status: ERR_CE }); // CRC error
    sim.deliver(frame(90, 2));
    const mbufs = new Uint32Array(8);
    const n = rxBurst(port, 0, mbufs, 8);
    t.equal(n, 1, 'only the good frame');
    t.equal(pktLen(mbufs[0]), 90);
    t.equal(statsGet(port).qErrors[0] - before, 1, 'error counted');
    pktmbufFreeBulk(mbufs, n, 0);
    t.equal(pool.availCount(), POOL_N - NB, 'no mbuf lost');
  });

  t.test('RX with an empty pool counts nombuf and keeps the descriptors', async (t) => {
    const hoard = new Uint32Array(POOL_N + 16);
    let h = 0;
    for (let k; (k = pool.getBurst(hoard, 16, h)) > 0;) h += k;
    t.equal(pool.availCount(), 0, 'pool drained');
    sim.deliver(frame(70, 1));
    sim.deliver(frame(71, 2));
    const mbufs = new Uint32Array(8);
    const before = statsGet(port).rxNombuf;
    t.equal(rxBurst(port, 0, mbufs, 8), 0, 'nothing without replacement buffers');
    t.equal(statsGet(port).rxNombuf - before, 2, 'rx_nombuf counted');
    pool.putBulk(hoard, h, 0);
    const n = rxBurst(port, 0, mbufs, 8);
    t.equal(n, 2, 'received once the pool has buffers');
    t.same([pktLen(mbufs[0]), pktLen(mbufs[1])], [70, 71]);
    pktmbufFreeBulk(mbufs, n, 0);
  });

  t.test('TX burst, descriptors, doorbell, reclaim', async (t) => {
    const r = mem();
    const m = new Uint32Array(64);
    t.ok(pktmbufAllocBulk(pool, m, 10, 0));
    for (let i = 0; i < 10; i++) {
      const f = frame(60 + i, 100 + i);
      append(m[i], f.length);
      writeData(m[i], f);
    }
    const spy = spyDoorbells();
    const sent = txBurst(port, 0, m, 10, 0);
    spy.restore();
    t.equal(sent, 10);
    t.same([...spy.counts.entries()], [[R.TDT(0), 1]], 'exactly one register store: TDT');
    t.equal(sim.get(R.TDT(0)), 10);
    for (let i = 0; i < 10; i++) {
      const w = sim.txDesc(0, i);
      const iova = dataIova(m[i]);
      t.equal(r.u32[w], iova >>> 0, `desc ${i} address low`);
      t.equal(r.u32[w + 1], Math.floor(iova / 2 ** 32), `desc ${i} address high`);
      t.equal(r.u32[w + 2] & 0xffff, 60 + i, 'length');
      // RS (report status) only on the last descriptor of each 32-descriptor reclaim batch
      const rs = (i & 31) === 31 ? TXD_CMD_RS : 0;
      t.equal(r.u32[w + 2] >>> 24, (TXD_CMD_EOP | TXD_CMD_IFCS | rs) >>> 24, rs ? 'cmd EOP|IFCS|RS' : 'cmd EOP|IFCS');
      t.equal(r.u32[w + 3], 0, 'status clear');
    }
    const frames = sim.stepTx();
    t.equal(frames.length, 10, 'the model sent 10 frames');
    frames.forEach((f, i) => t.same(f.bytes, frame(60 + i, 100 + i), `frame ${i} bytes`));
    t.equal(sim.get(R.TDH(0)), 10);
    const s = statsGet(port);
    t.equal(s.qOpackets[0], 10);
    const inUseAfter10 = pool.inUseCount();

    // fill further: 50 more in flight, then the next burst reclaims one batch of 32
    t.ok(pktmbufAllocBulk(pool, m, 50, 0));
    for (let i = 0; i < 50; i++) append(m[i], 60);
    t.equal(txBurst(port, 0, m, 50, 0), 50);
    t.equal(sim.stepTx().length, 50);
    t.equal(pool.inUseCount(), inUseAfter10 + 50, 'sent mbufs stay with the ring until reclaimed');
    t.ok(pktmbufAllocBulk(pool, m, 1, 0));
    append(m[0], 60);
    t.equal(txBurst(port, 0, m, 1, 0), 1);
    t.equal(pool.inUseCount(), inUseAfter10 + 50 + 1 - 32, 'one batch of 32 freed');
    sim.stepTx();

    // ring full: at most nb - 1 in flight
    t.ok(pktmbufAllocBulk(pool, m, 64, 0));
    for (let i = 0; i < 64; i++) append(m[i], 60);
    const k = txBurst(port, 0, m, 64, 0);
    t.ok(k < 64, `a full ring takes only what fits (${k})`);
    pktmbufFreeBulk(m, 64 - k, k);
    sim.stepTx();
  });

  t.test('TX of a two-segment packet', async (t) => {
    const r = mem();
    const m = new Uint32Array(2);
    t.ok(pktmbufAllocBulk(pool, m, 2, 0));
    append(m[0], 40);
    writeData(m[0], frame(40, 1));
    append(m[1], 30);
    writeData(m[1], frame(30, 2));
    t.ok(chain(m[0], m[1]));
    const tail = sim.get(R.TDT(0));
    t.equal(txBurst(port, 0, m, 1, 0), 1);
    const nb = NB;
    const w0 = sim.txDesc(0, tail);
    const w1 = sim.txDesc(0, (tail + 1) % nb);
    t.equal(r.u32[w0 + 2] & 0xffff, 40);
    t.equal(r.u32[w0 + 2] & TXD_CMD_EOP, 0, 'no EOP on the first segment');
    t.equal(r.u32[w1 + 2] & 0xffff, 30);
    t.ok(r.u32[w1 + 2] & TXD_CMD_EOP, 'EOP on the last');
    t.equal(sim.get(R.TDT(0)), (tail + 2) % nb);
    const f = sim.stepTx();
    t.equal(f.length, 1);
    t.same(f[0].bytes, Uint8Array.from([...frame(40, 1), ...frame(30, 2)]), 'one frame of both segments');
    t.equal(mtod(m[0]) > 0, true);
  });

  t.test('promiscuous and all-multicast', async (t) => {
    promiscuousEnable(port);
    t.equal(sim.get(R.RCTL) & (R.RCTL_UPE | R.RCTL_MPE), R.RCTL_UPE | R.RCTL_MPE, 'UPE|MPE');
    t.ok(sim.get(R.RCTL) & R.RCTL_EN, 'still enabled');
    promiscuousDisable(port);
    t.equal(sim.get(R.RCTL) & (R.RCTL_UPE | R.RCTL_MPE), 0);
    allmulticastEnable(port);
    t.equal(sim.get(R.RCTL) & (R.RCTL_UPE | R.RCTL_MPE), R.RCTL_MPE, 'MPE');
    allmulticastDisable(port);
    t.equal(sim.get(R.RCTL) & (R.RCTL_UPE | R.RCTL_MPE), 0);
  });

  t.test('hardware statistics', async (t) => {
    statsReset(port);
    for (let i = 0; i < 4; i++) sim.deliver(frame(100, i));
    sim.add(R.MPC, 3);
    const mbufs = new Uint32Array(8);
    const n = rxBurst(port, 0, mbufs, 8);
    pktmbufFreeBulk(mbufs, n, 0);
    let s = statsGet(port);
    t.equal(s.ipackets, 4, 'ipackets from GPRC');
    t.equal(s.ibytes, 400, 'ibytes from GORC without the FCS');
    t.equal(s.imissed, 3, 'imissed from MPC');
    s = statsGet(port); // the registers cleared when read
    t.equal(s.ipackets, 4, 'totals kept across reads');
    const x = xstatsGet(port);
    t.ok(x.some((e) => e.name === 'rx_crc_errors'), 'xstats carry DPDK names');
    t.equal(x.find((e) => e.name === 'rx_missed_packets')?.value, 3);
  });

  t.test('stop returns every mbuf, start again works', async (t) => {
    // something in flight on TX and unread on RX
    const m = new Uint32Array(5);
    t.ok(pktmbufAllocBulk(pool, m, 5, 0));
    for (let i = 0; i < 5; i++) append(m[i], 60);
    t.equal(txBurst(port, 0, m, 5, 0), 5);
    sim.deliver(frame(64, 9));
    devStop(port);
    t.equal(sim.get(R.RCTL) & R.RCTL_EN, 0, 'RCTL.EN off');
    t.equal(sim.get(R.TCTL) & R.TCTL_EN, 0, 'TCTL.EN off');
    t.equal(pool.availCount(), POOL_N, 'pool full again');
    t.equal(rxBurst(port, 0, new Uint32Array(4), 4), 0, 'stopped port receives nothing');

    devStart(port);
    t.equal(pool.availCount(), POOL_N - NB);
    t.equal(sim.get(R.RDH(0)), 0);
    sim.deliver(frame(128, 3));
    const mb = new Uint32Array(4);
    t.equal(rxBurst(port, 0, mb, 4), 1, 'receives after restart');
    t.same(packetBytes(mb[0]), frame(128, 3));
    pktmbufFreeBulk(mb, 1, 0);
    t.ok(pktmbufAllocBulk(pool, m, 1, 0));
    append(m[0], 60);
    t.equal(txBurst(port, 0, m, 1, 0), 1);
    t.equal(sim.get(R.TDT(0)), 1, 'TX ring restarted from 0');
  });

  t.test('close resets and turns bus mastering off', async (t) => {
    devClose(port);
    t.equal(pool.availCount(), POOL_N, 'no mbuf lost');
    t.notOk(sim.busMaster, 'bus mastering off');
    t.ok(sim.closed, 'device closed');
    t.ok(sim.writes.some(([o, v]) => o === R.CTRL && (v & R.CTRL_RST) !== 0), 'reset written');
  });
});

t.test('probe without a PCI access provider says what to do', async (t) => {
  setPciAccessProvider(null);
  t.throws(() => e1000ePmd.probePci!(BDF, null as unknown as Vfio), /bind the device to vfio-pci/);
});

t.test('e1000e features: two queues with RSS, checksum status, VLAN, jumbo frames', async (t) => {
  await ealInit(['--no-huge', '-m', '64', '-l', '0']);
  t.teardown(ealCleanup);
  const pool: Mempool = pktmbufPoolCreate('e1k_pool2', POOL_N, 32);
  const sim = new E1000eSim('e1k_sim_bar2');
  setPciAccessProvider((bdf) => sim.access(bdf));
  t.teardown(() => setPciAccessProvider(null));
  const port = ethDevAllocate(BDF, e1000ePmd.probePci!(BDF, null as unknown as Vfio), e1000ePmd);
  const info = devInfoGet(port);
  t.equal(info.maxRxQueues, 2, 'two queue pairs');
  t.equal(info.retaSize, 128);
  t.equal(info.hashKeySize, 40);
  t.equal(info.flowTypeRssOffloads & pktio.RSS_NONFRAG_IPV4_UDP, 0, 'no UDP hashing on the 82574');
  t.throws(() => devConfigure(port, 2, 2, { rxmode: { mqMode: 'rss' }, rxAdvConf: { rssConf: { hf: pktio.RSS_NONFRAG_IPV4_UDP } } }),
    { message: /RSS hash types not supported: ipv4-udp/ });
  devConfigure(port, 2, 2, {
    rxmode: { mqMode: 'rss', maxRxPktLen: 9018, offloads: pktio.RX_OFFLOAD_CHECKSUM | pktio.RX_OFFLOAD_VLAN_STRIP },
    rxAdvConf: { rssConf: { hf: pktio.RSS_IPV4 | pktio.RSS_NONFRAG_IPV4_TCP } },
    txmode: { offloads: pktio.TX_OFFLOAD_VLAN_INSERT },
  });
  for (let q = 0; q < 2; q++) {
    rxQueueSetup(port, q, NB, 0, null, pool);
    txQueueSetup(port, q, NB, 0, null);
  }
  devStart(port);

  t.test('registers', async (t) => {
    t.equal(sim.get(R.MRQC), R.MRQC_RSS_ENABLE | R.MRQC_IPV4 | R.MRQC_TCP_IPV4, 'MRQC: RSS on IPv4 and TCP/IPv4');
    t.ok(sim.get(R.RXCSUM) & R.RXCSUM_PCSD, 'RXCSUM.PCSD: the write-back carries the hash');
    t.equal(sim.get(R.RXCSUM) & (R.RXCSUM_IPOFLD | R.RXCSUM_TUOFLD), R.RXCSUM_IPOFLD | R.RXCSUM_TUOFLD, 'checksum offload on');
    t.equal(sim.get(R.RSSRK(0)), 0xda565a6d, 'key byte 0 in the low byte of RSSRK0');
    t.equal(sim.get(R.RETA(0)), 0x80008000, 'RETA: queue in bit 7 of each entry, 0,1,0,1...');
    t.ok(sim.get(R.CTRL) & R.CTRL_VME, 'CTRL.VME for VLAN strip and insert');
    t.ok(sim.get(R.RCTL) & R.RCTL_LPE, 'long packets for a 9018-byte maximum');
    t.equal(sim.get(R.RDT(1)), NB - 1, 'queue 1 armed');
    t.equal(sim.get(R.TDLEN(1)), NB * 16, 'TX queue 1 programmed');
    const reta = pktio.retaQuery(port);
    t.same(reta.slice(0, 4), [0, 1, 0, 1]);
    pktio.retaUpdate(port, reta.map(() => 1), (i) => i < 4);
    t.equal(sim.get(R.RETA(0)), 0x80808080, 'retaUpdate rewrites the table');
    pktio.retaUpdate(port, reta);
    t.throws(() => pktio.retaUpdate(port, reta.map(() => 2)), { message: 'port 0: RETA entry 0 names RX queue 2; 2 RX queue(s) are configured' });
    t.equal(pktio.rssHashConfGet(port).hf, pktio.RSS_IPV4 | pktio.RSS_NONFRAG_IPV4_TCP);
    t.throws(() => pktio.rxQueueStop(port, 1), { message: /rxQueueStop is not supported by net_e1000e \(the 82574L has no per-queue enable\)/ });
  });

  t.test('queue 1 receives, with hash, checksum flags and the stripped tag', async (t) => {
    const ok = sim.deliver(frame(100, 1), { status: ST_IPCS | ST_TCPCS | WB_VP, w0: 1, hash: 0x12345678, vlan: 0x0064 }, 1);
    t.ok(ok);
    sim.deliver(frame(100, 2), { status: ST_IPCS | ST_UDPCS | ERR_IPE }, 1);
    const m = new Uint32Array(8);
    t.equal(rxBurst(port, 0, m, 8), 0, 'nothing on queue 0');
    t.equal(rxBurst(port, 1, m, 8), 2, 'two on queue 1');
    t.equal(mbuf.rssHash(m[0]), 0x12345678, 'RSS hash');
    const f0 = mbuf.olFlags(m[0]);
    t.ok(f0 & mbuf.RX_RSS_HASH, 'RX_RSS_HASH');
    t.ok(f0 & mbuf.RX_IP_CKSUM_GOOD && f0 & mbuf.RX_L4_CKSUM_GOOD, 'IP and L4 checksums good');
    t.ok(f0 & mbuf.RX_VLAN_STRIPPED, 'VLAN stripped');
    t.equal(mbuf.vlanTci(m[0]), 100, 'the TCI in the mbuf');
    const f1 = mbuf.olFlags(m[1]);
    t.ok(f1 & mbuf.RX_IP_CKSUM_BAD, 'bad IP checksum flagged');
    t.ok(f1 & mbuf.RX_L4_CKSUM_GOOD, 'UDP checksum good');
    t.equal(f1 & mbuf.RX_RSS_HASH, 0, 'no hash when the write-back has no RSS type');
    t.equal(statsGet(port).qIpackets[1], 2, 'counted on queue 1');
    pktmbufFreeBulk(m, 2, 0);
  });

  t.test('a 9018-byte frame arrives as a chain of 2048-byte buffers', async (t) => {
    const big = frame(9018, 7);
    t.ok(sim.deliver(big, {}, 0));
    const m = new Uint32Array(8);
    t.equal(rxBurst(port, 0, m, 8), 1, 'one packet');
    t.equal(pktLen(m[0]), 9018);
    t.equal(mbuf.nbSegs(m[0]), 5, 'five segments');
    t.same(packetBytes(m[0]), big, 'contents intact');
    t.equal(txBurst(port, 1, m, 1, 0), 1, 'sent back as a chain');
    const sent = sim.stepTx(1);
    t.equal(sent.length, 1);
    t.same(sent[0].bytes, big, 'the model sent the same 9018 bytes');
  });

  t.test('a frame split across two bursts waits for its last buffer', async (t) => {
    const big = frame(5000, 9);
    t.ok(sim.deliver(big, {}, 0));
    const m = new Uint32Array(8);
    t.equal(rxBurst(port, 0, m, 2), 0, 'two of three descriptors: no packet yet');
    t.equal(rxBurst(port, 0, m, 8), 1, 'the last one completes it');
    t.same(packetBytes(m[0]), big);
    pktmbufFreeBulk(m, 1, 0);
  });

  t.test('TX VLAN insert', async (t) => {
    const m = new Uint32Array(1);
    t.ok(pktmbufAllocBulk(pool, m, 1, 0));
    append(m[0], 60);
    writeData(m[0], frame(60, 3));
    mbuf.setOlFlags(m[0], mbuf.TX_VLAN);
    mbuf.setVlanTci(m[0], 0x0123);
    t.equal(txBurst(port, 0, m, 1, 0), 1);
    const sent = sim.stepTx(0);
    t.equal(sent[0].vlan, 0x123, 'tag from the special field');
    t.same(sent[0].bytes.subarray(12, 16), [0x81, 0x00, 0x01, 0x23], 'inserted after the MACs');
  });

  t.test('a burst of chains is not refused while completed descriptors wait for reclaim', async (t) => {
    // found by 10 minutes of mixed traffic in the guest: the reclaim at the top of txBurst counts packets, a jumbo
    // chain takes 5 descriptors; with 32..5n free and the rest done, the burst was cut short and l2fwd dropped frames
    // single packets sent and done until the ring's first 32 descriptors are used (the subtests before used some):
    // that batch is reclaimable, 31 of 63 descriptors are free, not below the burst's 8 packets nor the free
    // threshold (31 on a 64-descriptor ring), so the top of txBurst does not reclaim; the 8 chains need 40
    const one = new Uint32Array(1);
    const used = sim.get(R.TDT(0));
    t.ok(used < 32, `${used} descriptors used so far`);
    for (let i = used; i < 32; i++) {
      t.ok(pktmbufAllocBulk(pool, one, 1, 0));
      append(one[0], 60);
      if (txBurst(port, 0, one, 1, 0) !== 1) t.fail(`single packet ${i} refused`);
      sim.stepTx(0); // the NIC sends at once, as QEMU does on the TDT write
    }
    const pk = new Uint32Array(8);
    const seg = new Uint32Array(5);
    for (let p = 0; p < 8; p++) {
      t.ok(pktmbufAllocBulk(pool, seg, 5, 0));
      for (let k = 0; k < 5; k++) append(seg[k], 1000);
      for (let k = 1; k < 5; k++) mbuf.chain(seg[0], seg[k]);
      pk[p] = seg[0];
    }
    const sent = txBurst(port, 0, pk, 8, 0);
    t.equal(sent, 8, 'every five-segment packet taken: the done descriptors were reclaimed for them');
    if (sent < 8) pktmbufFreeBulk(pk, 8 - sent, sent);
    t.equal(sim.stepTx(0).length, sent);
  });

  t.test('a NIC that keeps up never sees a burst refused: chains and single packets mixed', async (t) => {
    // as QEMU does on the TDT write, the NIC sends each burst at once; every burst needs at most 32 descriptors, so
    // with the ring's other 31 done (or in a batch not yet closed) it always fits. The 10-minute guest run found
    // the single-packet path refusing when chains earlier in the burst had used up what the top-of-burst reclaim left
    // a free threshold of 8 (TxConf.freeThresh): the top-of-burst reclaim then leaves as few as 8 free
    devStop(port);
    txQueueSetup(port, 0, NB, 0, { freeThresh: 8 });
    devStart(port);
    const rnd = randomBelow(12345);
    const pk = new Uint32Array(32);
    const seg = new Uint32Array(5);
    let refused = 0;
    let frames = 0;
    for (let b = 0; b < 500; b++) {
      const chains = rnd(5);
      const singles = 1 + rnd(32 - 5 * chains);
      const order = rnd(2); // chains first or last
      let k = 0;
      const addChain = (): void => {
        if (!pktmbufAllocBulk(pool, seg, 5, 0)) throw new Error('pool empty');
        for (let j = 0; j < 5; j++) append(seg[j], 200);
        for (let j = 1; j < 5; j++) mbuf.chain(seg[0], seg[j]);
        pk[k++] = seg[0];
      };
      if (order === 0) for (let c = 0; c < chains; c++) addChain();
      for (let i = 0; i < singles; i++) {
        if (!pktmbufAllocBulk(pool, seg, 1, 0)) throw new Error('pool empty');
        append(seg[0], 60);
        pk[k++] = seg[0];
      }
      if (order === 1) for (let c = 0; c < chains; c++) addChain();
      const sent = txBurst(port, 0, pk, k, 0);
      if (sent < k) { refused += k - sent; pktmbufFreeBulk(pk, k - sent, sent); }
      frames += sim.stepTx(0).length;
    }
    t.equal(refused, 0, `no packet refused (${frames} frames sent)`);
    devStop(port);
    txQueueSetup(port, 0, NB, 0, null);
    devStart(port);
  });

  t.test('TX fuzz: bursts of single packets, chains and VLAN tags, a NIC that lags; every accepted frame sent once, intact, in order', async (t) => {
    const r = txFuzz({ port, queue: 1, pool, stepTx: (q, max) => sim.stepTx(q, max), nb: NB, rounds: 2000, vlan: true });
    t.same(r.errors, [], 'no frame lost, repeated, reordered or corrupted');
    t.equal(r.missing, 0, `every accepted frame was sent (${r.frames} frames, ${r.chains} of 5 segments, ${r.tagged} tagged)`);
    t.ok(r.frames > 5000, 'the fuzz sent enough frames');
  });

  t.test('stop returns every mbuf (both queues)', async (t) => {
    sim.deliver(frame(3000, 1), {}, 1);
    const m = new Uint32Array(4);
    t.equal(rxBurst(port, 1, m, 1), 0, 'a half-received frame is held');
    devStop(port);
    t.equal(pool.availCount(), POOL_N, 'all back, the half frame included');
    devClose(port);
    t.notOk(sim.busMaster);
  });
});

t.test('e1000e RX interrupts: MSI-X vectors through VFIO, IVAR, EIAC, throttling, arm and disarm', async (t) => {
  await ealInit(['--no-huge', '-m', '64', '-l', '0']);
  t.teardown(ealCleanup);
  const pool = pktmbufPoolCreate('e1k_intr_pool', POOL_N, 32);
  const sim = new E1000eSim('e1k_intr_bar');
  t.teardown(() => sim.release());
  // the VFIO side, faked: what the driver binds and unbinds
  const bound: number[][] = [];
  let unbound = 0;
  let vectors = 5; // QEMU's 82574 offers 5 MSI-X vectors
  setPciAccessProvider((bdf) => ({
    ...sim.access(bdf),
    irq: { msixCount: () => vectors, enableMsix: (fds) => { bound.push([...fds]); }, disable: () => { unbound++; } },
  }));
  t.teardown(() => setPciAccessProvider(null));
  const ops = e1000ePmd.probePci!(BDF, null as unknown as Vfio);
  ops.configure(2, 1, { intrConf: { rxq: true, lsc: true } });
  const specs = [0, 1].map((q) => JSON.parse(JSON.stringify(ops.rxQueueSetup(q, NB, {}, pool, 0))));
  ops.txQueueSetup(0, NB, {}, 0);
  ops.start();
  t.equal(bound.length, 1, 'MSI-X enabled once');
  t.equal(bound[0].length, 3, 'three vectors: RX queue 0, RX queue 1, link');
  t.equal(sim.get(R.IVAR), (0 | R.IVAR_VALID) | ((1 | R.IVAR_VALID) << 4) | ((2 | R.IVAR_VALID) << 16), 'IVAR: RxQ0 -> 0, RxQ1 -> 1, Other -> 2, all valid');
  t.equal(sim.get(R.EIAC), R.ICR_RXQ0 | (R.ICR_RXQ0 << 1), 'EIAC: the queue causes auto-clear');
  t.equal(sim.get(R.IAM), 0, 'no auto-mask on ICR reads');
  t.ok(sim.get(R.CTRL_EXT) & R.CTRL_EXT_PBA_SUPPORT, 'CTRL_EXT.PBA_SUPPORT');
  t.equal(sim.get(R.ITR), R.ITR_20K, 'ITR ~20k/s');
  for (let v = 0; v < 3; v++) t.equal(sim.get(R.EITR(v)), R.ITR_20K, `EITR${v} ~20k/s`);
  t.equal(sim.get(R.IMS), R.ICR_LSC | R.ICR_OTHER, 'IMS: link status only; the queues start masked');
  const src = ops.rxIntrSource!(1);
  t.same(src, { fd: bound[0][1], kind: 'eventfd' }, 'queue 1 waits on vector 1\'s eventfd');
  t.equal(ffi.write(src.fd, new BigUint64Array([3n]), 8), 8, 'the fd is an eventfd');
  t.equal(eventfdDrain(src.fd), 3, 'and drains');
  const q1 = intelDataPlane.attachRx(specs[1], new Float64Array(8));
  q1.intrEnable!();
  t.equal(sim.get(R.IMS), R.ICR_RXQ0 << 1, 'intrEnable writes RxQ1 to IMS');
  q1.intrDisable!();
  t.equal(sim.get(R.IMC), R.ICR_RXQ0 << 1, 'intrDisable writes RxQ1 to IMC');
  ops.stop();
  t.equal(unbound, 1, 'stop unbinds the vectors');
  t.equal(sim.get(R.IVAR), 0, 'IVAR cleared');
  t.equal(ffi.fcntl(src.fd, ffi.F_GETFL, 0), -1, 'eventfds closed');
  t.throws(() => ops.rxIntrSource!(0), /intrConf\.rxq and start/, 'no source while stopped');

  ops.configure(1, 1, {});
  const plain = ops.rxQueueSetup(0, NB, {}, pool, 0) as { intr: unknown };
  t.equal(plain.intr, null, 'no interrupt registers in the spec without intrConf');
  t.equal(intelDataPlane.attachRx(JSON.parse(JSON.stringify(plain)), new Float64Array(8)).intrEnable, undefined, 'no intrEnable');
  vectors = 0;
  ops.configure(2, 1, { intrConf: { rxq: true } });
  for (const q of [0, 1]) ops.rxQueueSetup(q, NB, {}, pool, 0);
  t.throws(() => ops.start(), /3 MSI-X vectors .* offers 0/, 'a function without MSI-X: one clear line');
  t.equal(pool.inUseCount(), 0, 'nothing armed');
  ops.close();
  t.equal(pool.inUseCount(), 0);
});
