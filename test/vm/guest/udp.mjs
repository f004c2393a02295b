// UDP traffic for the VM suite. send HOST PORT COUNT [SIZE] | recv PORT COUNT TIMEOUT_S (prints received=N,
// received_distinct=N and intact=N: datagrams whose every payload byte after the sequence number is as sent)
import dgram from 'node:dgram';
const [mode, ...a] = process.argv.slice(2);
if (mode === 'send') {
  const [host, port, count, size] = [a[0], Number(a[1]), Number(a[2]), Number(a[3] ?? 64)];
  const s = dgram.createSocket('udp4');
  const payload = Buffer.alloc(size);
  for (let i = 4; i < size; i++) payload[i] = (i * 31 + 7) & 0xff;
  let sent = 0;
  const burst = () => {
    // paced: 20 datagrams per 4 ms, a jumbo one per 8 ms, so neither the sender's queue nor the receiver's NIC
    // overflows under emulation (QEMU's igb drops a frame that finds too few free descriptors for all of it)
    for (let i = 0; i < (size > 1500 ? 1 : 20) && sent < count; i++, sent++) {
      const b = Buffer.from(payload); // send is asynchronous: each datagram gets its own buffer
      b.writeUInt32BE(sent, 0);
      s.send(b, port, host);
    }
    if (sent < count) setTimeout(burst, size > 1500 ? 8 : 4);
    else setTimeout(() => { console.log(`sent=${sent}`); s.close(); }, 200);
  };
  burst();
} else {
  const [port, count, timeout] = [Number(a[0]), Number(a[1]), Number(a[2])];
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 16 << 20 });
  const seen = new Set();
  let got = 0;
  let intact = 0;
  s.on('message', (m) => {
    got++;
    seen.add(m.readUInt32BE(0));
    let ok = true;
    for (let i = 4; i < m.length && ok; i++) ok = m[i] === ((i * 31 + 7) & 0xff);
    if (ok) intact++;
    if (got >= count) done();
  });
  const done = () => { console.log(`received=${got}\nreceived_distinct=${seen.size}\nintact=${intact}`); s.close(); process.exit(0); };
  s.bind(port, () => console.log('listening'));
  setTimeout(done, timeout * 1000);
}
