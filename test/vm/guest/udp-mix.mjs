// UDP of many sizes for guest/mixed-traffic.sh, one process per namespace (both directions at once):
//   udp-mix.mjs PEER BASEPORT FLOWS SECONDS DRAIN_S MAXSIZE
// FLOWS sockets bound to BASEPORT..BASEPORT+FLOWS-1; once bound it prints "listening" and waits for SIGUSR1 (the
// script starts both ends, then both senders, so no datagram finds its port closed); then socket i sends to PEER's
// port BASEPORT+i (FLOWS 5-tuples each way) for SECONDS, payloads cycling through SIZES (18 bytes to MAXSIZE) interleaved with a spread of sizes in
// between; then receiving DRAIN_S more seconds. Prints udp_sent, udp_send_errors, udp_sent_small / _mid / _jumbo
// (payload <= 200, <= 1472, more), udp_received, udp_intact (every byte after the flow and sequence number as sent),
// udp_flows_seen.
import dgram from 'node:dgram';

const [peer, basePort, flows, seconds, drain, maxSize] = [process.argv[2], ...process.argv.slice(3, 8).map(Number)];
// edges: the smallest payload (a 60-byte frame), around the 1500-byte MTU (1472 is the largest unfragmented there),
// the largest in a 9000-byte MTU (8972)
const EDGES = [18, 19, 64, 128, 200, 512, 1000, 1471, 1472, 1473, 2048, 4000, 6000, 8000, 8971, 8972];
const sizes = [];
for (let i = 0; i < 64; i++) {
  sizes.push(EDGES[i % EDGES.length]);
  sizes.push(18 + ((i * 7919) % (maxSize - 17))); // spread over the whole range
}
const SIZES = sizes.filter((s) => s <= maxSize);
const TICK_MS = 5; // per tick each flow sends one datagram, paced so a kernel NIC's ring keeps up under TCG

const pattern = Buffer.alloc(maxSize);
for (let i = 0; i < maxSize; i++) pattern[i] = (i * 31 + 7) & 0xff;
const st = { sent: 0, errors: 0, small: 0, mid: 0, jumbo: 0, received: 0, intact: 0 };
const seen = new Set();
const socks = [];
let ready = 0;
for (let f = 0; f < flows; f++) {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 16 << 20 });
  s.on('message', (m) => {
    st.received++;
    if (m.length >= 8) seen.add(m.readUInt32BE(0));
    let ok = m.length >= 8;
    for (let i = 8; i < m.length && ok; i++) ok = m[i] === pattern[i];
    if (ok) st.intact++;
  });
  s.on('error', () => st.errors++);
  s.bind(basePort + f, () => {
    if (++ready === flows) start();
  });
  socks.push(s);
}

function start() {
  console.log('listening');
  process.once('SIGUSR1', send);
}

function send() {
  const end = Date.now() + seconds * 1000;
  let k = 0;
  const tick = () => {
    for (let f = 0; f < flows; f++) {
      const size = SIZES[k++ % SIZES.length];
      const b = Buffer.from(pattern.subarray(0, size)); // send is asynchronous: each datagram its own buffer
      b.writeUInt32BE(f, 0);
      b.writeUInt32BE(st.sent, 4);
      socks[f].send(b, basePort + f, peer, (e) => { if (e) st.errors++; });
      st.sent++;
      if (size <= 200) st.small++;
      else if (size <= 1472) st.mid++;
      else st.jumbo++;
    }
    if (Date.now() < end) setTimeout(tick, TICK_MS);
    else setTimeout(finish, drain * 1000);
  };
  tick();
}

function finish() {
  console.log(`udp_sent=${st.sent}\nudp_send_errors=${st.errors}\nudp_sent_small=${st.small}\nudp_sent_mid=${st.mid}\n` +
    `udp_sent_jumbo=${st.jumbo}\nudp_received=${st.received}\nudp_intact=${st.intact}\nudp_flows_seen=${seen.size}`);
  for (const s of socks) s.close();
}
