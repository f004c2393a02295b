// A fake memif peer for the bad-peer and fuzz tests, made of the driver's own socket calls: it speaks whatever it
// is told (another version, a ring too large, garbage) and reports what pktio answers.
import * as fs from 'node:fs';
import * as ffi from '../../src/eal/ffi.js';
import { Channel, unixConnect, unixListen, unixAccept } from '../../src/pmd/memif/channel.js';
import { decodeMsg, encodeMsg, type MemifMsg, type MsgFields } from '../../src/pmd/memif/proto.js';
import { memifPoll } from '../../src/pmd/memif/memif.js';

export type Heard = MemifMsg | 'closed' | null;

export class FakePeer {
  constructor(readonly ch: Channel) {}

  static client(path: string, abstract: boolean): FakePeer {
    const fd = unixConnect(path, abstract);
    if (fd < 0) throw new Error(`fake client: connect ${path}: ${ffi.strerror(-fd)}`);
    return new FakePeer(new Channel(fd));
  }

  send(type: number, f: MsgFields = {}, fd = -1): void {
    this.ch.send(encodeMsg(type, f), fd);
  }

  /** Sends raw bytes (any length) as one message. */
  sendRaw(b: Buffer, fd = -1): boolean {
    const buf = Buffer.alloc(128);
    b.copy(buf, 0, 0, Math.min(128, b.length));
    if (b.length === 128) {
      try { this.ch.send(buf, fd); return true; } catch { return false; }
    }
    return ffi.send(this.ch.fd, b, b.length, ffi.MSG_DONTWAIT | ffi.MSG_NOSIGNAL) === b.length;
  }

  /** Lets pktio's control channel run (synchronously) and returns what it said, if anything. */
  hear(rounds = 3): Heard {
    for (let i = 0; i < rounds; i++) {
      memifPoll();
      const r = this.ch.recv();
      if (r.kind === 'closed') return 'closed';
      if (r.kind === 'msg') {
        if (r.fd >= 0) ffi.close(r.fd);
        return decodeMsg(r.bytes, r.n);
      }
    }
    return null;
  }

  close(): void {
    this.ch.close();
  }
}

/** A fake server: listens, accepts one client when polled. */
export class FakeServer {
  readonly fd: number;
  constructor(path: string, abstract: boolean) {
    this.fd = unixListen(path, abstract);
  }
  accept(): FakePeer | null {
    const fd = unixAccept(this.fd);
    return fd < 0 ? null : new FakePeer(new Channel(fd));
  }
  close(): void {
    ffi.close(this.fd);
  }
}

/** Descriptors this process holds (leak checks). */
export function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}
