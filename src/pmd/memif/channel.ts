// The memif control channel's socket calls: AF_UNIX SOCK_SEQPACKET sockets, nonblocking, one 128-byte message per
// sendmsg/recvmsg with at most one descriptor passed as SCM_RIGHTS (memif_socket.c memif_msg_send/memif_msg_receive).
// Main lcore only, control path: buffers are made once per channel, calls never block (EAGAIN is "nothing yet").
import * as ffi from '../../eal/ffi.js';
import { MEMIF_MSG_SZ } from './proto.js';

/** sizeof(struct sockaddr_un): sun_family (2) + sun_path (108) */
const SOCKADDR_UN_SIZE = 110;
const SUN_PATH_MAX = 108;
/** recvmsg flag (linux/socket.h): received descriptors get FD_CLOEXEC */
const MSG_CMSG_CLOEXEC = 0x40000000;
/** msghdr.msg_flags (linux/socket.h): the message was longer than the buffer */
const MSG_TRUNC = 0x20;
// struct msghdr (x86-64): name ptr 0, namelen 8, iov ptr 16, iovlen 24, control ptr 32, controllen 40, flags 48
const MH_IOV = 16;
const MH_IOVLEN = 24;
const MH_CONTROL = 32;
const MH_CONTROLLEN = 40;
const MH_FLAGS = 48;
const MSGHDR_SIZE = 56;
// struct cmsghdr: len (size_t) 0, level 8, type 12, data 16. CMSG_LEN(4) = 20, CMSG_SPACE(4) = 24.
const CMSG_HDR = 16;
const CMSG_LEN_INT = 20;
const CMSG_SPACE_INT = 24;
/** room for a few descriptors (a bad peer may send more than one) and credentials */
const CONTROL_BYTES = 128;
/** a message longer than 128 bytes shows as longer, not as a truncated 128 */
const RX_BYTES = 256;

export class ChannelError extends Error {}

/**
 * struct sockaddr_un for a memif socket and its length. A filesystem path is NUL-terminated (length: the whole
 * struct); an abstract name (socket-abstract=yes) is a NUL followed by the name, its length counting only those
 * bytes (memif_socket.c: 1 + strlen(name) + sizeof(sun_family)).
 */
export function sockaddrUn(path: string, abstract: boolean): { addr: Buffer; len: number } {
  const name = Buffer.from(path, 'utf8');
  const max = SUN_PATH_MAX - 1;
  if (name.length === 0 || name.length > max) {
    throw new ChannelError(`socket=${path}: a unix socket name has 1 to ${max} bytes`);
  }
  const addr = Buffer.alloc(SOCKADDR_UN_SIZE);
  addr.writeUInt16LE(ffi.AF_UNIX, 0);
  name.copy(addr, abstract ? 3 : 2);
  return { addr, len: abstract ? 2 + 1 + name.length : SOCKADDR_UN_SIZE };
}

function seqpacket(): number {
  return ffi.check(ffi.socket(ffi.AF_UNIX, ffi.SOCK_SEQPACKET | ffi.SOCK_NONBLOCK | ffi.SOCK_CLOEXEC, 0), 'socket(AF_UNIX, SOCK_SEQPACKET)');
}

/** A listening socket (the server); throws a SysError naming the socket. */
export function unixListen(path: string, abstract: boolean): number {
  const { addr, len } = sockaddrUn(path, abstract);
  const fd = seqpacket();
  if (ffi.bind(fd, addr, len) < 0 || ffi.listen(fd, 8) < 0) {
    const e = ffi.errno();
    ffi.close(fd);
    throw new ffi.SysError(`bind/listen on memif socket ${abstract ? '@' : ''}${path}`, e,
      e === ffi.EADDRINUSE ? 'another process serves this socket: give another socket=' : undefined);
  }
  return fd;
}

/** Connects to a server; returns the fd, or -errno when the server is not there (yet). */
export function unixConnect(path: string, abstract: boolean): number {
  const { addr, len } = sockaddrUn(path, abstract);
  const fd = seqpacket();
  if (ffi.connect(fd, addr, len) < 0) {
    const e = ffi.errno();
    ffi.close(fd);
    return -e;
  }
  return fd;
}

/** accept4 on a listener: the new fd, or -1 when no connection waits. */
export function unixAccept(lfd: number): number {
  const fd = ffi.accept4(lfd, null, null, ffi.SOCK_NONBLOCK | ffi.SOCK_CLOEXEC);
  return fd < 0 ? -1 : fd;
}

export type RecvResult =
  | { kind: 'msg'; bytes: Uint8Array; n: number; fd: number }
  | { kind: 'again' }
  | { kind: 'closed'; why: string };

/** One connected control socket: sends and receives whole messages with an optional descriptor. */
export class Channel {
  readonly fd: number;
  private readonly mh = Buffer.alloc(MSGHDR_SIZE);
  private readonly iov = Buffer.alloc(16);
  private readonly ctl = Buffer.alloc(CONTROL_BYTES);
  private readonly rx = Buffer.alloc(RX_BYTES);
  private closed = false;

  constructor(fd: number) {
    this.fd = fd;
  }

  private prepare(data: Buffer, dataLen: number, ctlLen: number): void {
    this.iov.writeBigUInt64LE(ffi.addressOf(data), 0);
    this.iov.writeBigUInt64LE(BigInt(dataLen), 8);
    this.mh.fill(0);
    this.mh.writeBigUInt64LE(ffi.addressOf(this.iov), MH_IOV);
    this.mh.writeBigUInt64LE(1n, MH_IOVLEN);
    if (ctlLen > 0) {
      this.mh.writeBigUInt64LE(ffi.addressOf(this.ctl), MH_CONTROL);
      this.mh.writeBigUInt64LE(BigInt(ctlLen), MH_CONTROLLEN);
    }
  }

  /** Sends a 128-byte message, with `passFd` as SCM_RIGHTS when >= 0. Throws ChannelError when the peer is gone. */
  send(msg: Buffer, passFd = -1): void {
    if (msg.length !== MEMIF_MSG_SZ) throw new ChannelError(`memif message of ${msg.length} bytes`);
    this.ctl.fill(0);
    if (passFd >= 0) {
      this.ctl.writeBigUInt64LE(BigInt(CMSG_LEN_INT), 0);
      this.ctl.writeInt32LE(ffi.SOL_SOCKET, 8);
      this.ctl.writeInt32LE(ffi.SCM_RIGHTS, 12);
      this.ctl.writeInt32LE(passFd, CMSG_HDR);
    }
    this.prepare(msg, MEMIF_MSG_SZ, passFd >= 0 ? CMSG_SPACE_INT : 0);
    const n = ffi.sendmsg(this.fd, this.mh, ffi.MSG_DONTWAIT | ffi.MSG_NOSIGNAL);
    if (n !== MEMIF_MSG_SZ) {
      const e = ffi.errno();
      throw new ChannelError(n < 0 ? `sendmsg: ${ffi.strerror(e)}` : `sendmsg sent ${n} of ${MEMIF_MSG_SZ} bytes`);
    }
  }

  /**
   * Receives one message if one waits. The first descriptor passed with it is returned (the caller owns it; -1
   * when none); any further ones are closed here.
   */
  recv(): RecvResult {
    this.ctl.fill(0);
    this.prepare(this.rx, RX_BYTES, CONTROL_BYTES);
    const n = ffi.recvmsg(this.fd, this.mh, ffi.MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
      // only errors that say the connection is gone end it (a closed peer shows as n = 0 on SOCK_SEQPACKET)
      const e = ffi.errno();
      if (e === ffi.ECONNRESET || e === ffi.ENOTCONN || e === ffi.EBADF || e === ffi.EPIPE) return { kind: 'closed', why: ffi.strerror(e) };
      return { kind: 'again' };
    }
    if (n === 0) return { kind: 'closed', why: 'the peer closed the socket' };
    const fd = this.takeFds();
    const trunc = (this.mh.readInt32LE(MH_FLAGS) & MSG_TRUNC) !== 0;
    return { kind: 'msg', bytes: this.rx, n: trunc ? RX_BYTES + 1 : n, fd };
  }

  /** Walks the received control messages: keeps the first SCM_RIGHTS descriptor, closes the rest. */
  private takeFds(): number {
    const clen = Number(this.mh.readBigUInt64LE(MH_CONTROLLEN));
    let keep = -1;
    for (let at = 0; at + CMSG_HDR <= clen;) {
      const len = Number(this.ctl.readBigUInt64LE(at));
      if (len < CMSG_HDR || at + len > clen) break;
      if (this.ctl.readInt32LE(at + 8) === ffi.SOL_SOCKET && this.ctl.readInt32LE(at + 12) === ffi.SCM_RIGHTS) {
        for (let p = at + CMSG_HDR; p + 4 <= at + len; p += 4) {
          const fd = this.ctl.readInt32LE(p);
          if (keep < 0) keep = fd;
          else ffi.close(fd);
        }
      }
      at += (len + 7) & ~7;
    }
    return keep;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    ffi.close(this.fd);
  }
}
