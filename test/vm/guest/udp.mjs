// UDP traffic for the VM suite. send HOST PORT COUNT | recv PORT COUNT TIMEOUT_S (prints received=N)
import dgram from 'node:dgram';
const [mode, ...a] = process.argv.slice(2);
if (mode === 'send') {
  const [host, port, count] = [a[0], Number(a[1]), Number(a[2])];
  const s = dgram.createSocket('udp4');
  const payload = Buffer.alloc(64, 0x5a);
  let sent = 0;
  const burst = () => {
    // paced: 20 datagrams per 4 ms, so neither the sender's queue nor the receiver's NIC overflows under emulation
    for (let i = 0; i < 20 && sent < count; i++, sent++) {
      const b = Buffer.from(payload); // send is asynchronous: each datagram gets its own buffer
      b.writeUInt32BE(sent, 0);
      s.send(b, port, host);
    }
    if (sent < count) setTimeout(burst, 4);
    else setTimeout(() => { console.log(`sent=${sent}`); s.close(); }, 200);
  };
  burst();
} else {
  const [port, count, timeout] = [Number(a[0]), Number(a[1]), Number(a[2])];
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 16 << 20 });
  const seen = new Set();
  let got = 0;
  s.on('message', (m) => {
    got++;
    seen.add(m.readUInt32BE(0));
    if (got >= count) done();
  });
  const done = () => { console.log(`received=${got}\nreceived_distinct=${seen.size}`); s.close(); process.exit(0); };
  s.bind(port, () => console.log('listening'));
  setTimeout(done, timeout * 1000);
}
