// libc through koffi: the only place pktio declares native functions.
// Control path only: nothing here is called per packet. Pointers are BigInt (koffi 3).
import koffi from 'koffi';

export { koffi };

const libc = koffi.load('libc.so.6');

// Linux x86-64 constants (asm-generic/fcntl.h, asm-generic/mman-common.h, bits/mman-linux.h)
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_CLOEXEC = 0o2000000;
export const O_NONBLOCK = 0o4000;
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_HUGETLB = 0x40000;
export const MAP_FIXED_NOREPLACE = 0x100000;
export const MAP_FAILED = 0xffffffffffffffffn;
export const EINTR = 4;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOTTY = 25;
export const ENOSPC = 28;
export const EPERM = 1;
export const ENOENT = 2;

export const open = libc.func('int open(const char *path, int flags, uint32_t mode)') as
  (path: string, flags: number, mode: number) => number;
export const close = libc.func('int close(int fd)') as (fd: number) => number;
export const ftruncate = libc.func('int ftruncate(int fd, int64_t len)') as (fd: number, len: number | bigint) => number;
export const unlink = libc.func('int unlink(const char *path)') as (path: string) => number;
export const mmap = libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)') as
  (addr: bigint | null, len: number | bigint, prot: number, flags: number, fd: number, off: number | bigint) => bigint;
export const munmap = libc.func('int munmap(void *addr, size_t len)') as (addr: bigint, len: number | bigint) => number;
export const madvise = libc.func('int madvise(void *addr, size_t len, int advice)') as
  (addr: bigint, len: number | bigint, advice: number) => number;
export const pread = libc.func('intptr_t pread(int fd, _Out_ void *buf, size_t n, int64_t off)') as
  (fd: number, buf: ArrayBufferView | ArrayBuffer, n: number, off: number | bigint) => number;
export const pwrite = libc.func('intptr_t pwrite(int fd, const void *buf, size_t n, int64_t off)') as
  (fd: number, buf: ArrayBufferView | ArrayBuffer, n: number, off: number | bigint) => number;
export const read = libc.func('intptr_t read(int fd, _Out_ void *buf, size_t n)') as
  (fd: number, buf: ArrayBufferView | ArrayBuffer, n: number) => number;
export const write = libc.func('intptr_t write(int fd, const void *buf, size_t n)') as
  (fd: number, buf: ArrayBufferView | ArrayBuffer, n: number) => number;
/** ioctl whose argument is a pointer to a struct the kernel may read and write (pass a Buffer or typed array). */
export const ioctlPtr = libc.func('ioctl', 'int', ['int', 'unsigned long', 'void *']) as
  (fd: number, req: number, arg: ArrayBufferView | ArrayBuffer | null) => number;
/** ioctl whose argument is a plain integer (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU, ...). */
export const ioctlInt = libc.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']) as
  (fd: number, req: number, arg: number) => number;
export const sched_setaffinity = libc.func('int sched_setaffinity(int pid, size_t len, const void *mask)') as
  (pid: number, len: number, mask: ArrayBufferView) => number;
export const sched_getaffinity = libc.func('int sched_getaffinity(int pid, size_t len, _Out_ void *mask)') as
  (pid: number, len: number, mask: ArrayBufferView) => number;
export const sched_getcpu = libc.func('int sched_getcpu(void)') as () => number;
export const gettid = libc.func('int gettid(void)') as () => number;
export const getpid = libc.func('int getpid(void)') as () => number;
// Sockets, descriptors and polling: the software ports' control paths, and their data paths where a port needs
// the kernel (a packet-ring kick, a tap read or write, a file write). Data-path calls take numbers and pointers
// the caller made once (a BigInt held in a field, an iovec in EAL memory), so a call allocates nothing.
export const AF_UNIX = 1;
export const AF_PACKET = 17;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_SEQPACKET = 5;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SOL_PACKET = 263;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_CTRUNC = 0x8;
export const SCM_RIGHTS = 1;
export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const MFD_CLOEXEC = 1;
export const MFD_ALLOW_SEALING = 2;
export const EFD_CLOEXEC = 0o2000000;
export const EFD_NONBLOCK = 0o4000;
export const ECONNREFUSED = 111;
export const EADDRINUSE = 98;
export const ENOBUFS = 105;
export const ENETDOWN = 100;
export const ENXIO = 6;
export const EBADF = 9;
export const EPIPE = 32;
export const ECONNRESET = 104;
export const ENOTCONN = 107;
export const EINPROGRESS = 115;

export const socket = libc.func('int socket(int domain, int type, int protocol)') as (d: number, t: number, p: number) => number;
export const bind = libc.func('int bind(int fd, const void *addr, uint32_t len)') as (fd: number, addr: ArrayBufferView, len: number) => number;
export const connect = libc.func('int connect(int fd, const void *addr, uint32_t len)') as (fd: number, addr: ArrayBufferView, len: number) => number;
export const listen = libc.func('int listen(int fd, int backlog)') as (fd: number, backlog: number) => number;
export const accept4 = libc.func('int accept4(int fd, void *addr, void *len, int flags)') as (fd: number, addr: null, len: null, flags: number) => number;
export const setsockopt = libc.func('int setsockopt(int fd, int level, int name, const void *val, uint32_t len)') as
  (fd: number, level: number, name: number, val: ArrayBufferView, len: number) => number;
export const getsockopt = libc.func('int getsockopt(int fd, int level, int name, _Out_ void *val, _Inout_ uint32_t *len)') as
  (fd: number, level: number, name: number, val: ArrayBufferView, len: Uint32Array) => number;
/** sendto(fd, NULL, 0, flags, NULL, 0): a packet ring's TX kick. */
export const sendKick = libc.func('sendto', 'intptr_t', ['int', 'void *', 'size_t', 'int', 'void *', 'uint32_t']) as
  (fd: number, buf: null, n: number, flags: number, addr: null, alen: number) => number;
export const send = libc.func('intptr_t send(int fd, const void *buf, size_t n, int flags)') as
  (fd: number, buf: ArrayBufferView, n: number, flags: number) => number;
export const recv = libc.func('intptr_t recv(int fd, _Out_ void *buf, size_t n, int flags)') as
  (fd: number, buf: ArrayBufferView, n: number, flags: number) => number;
/** sendmsg/recvmsg with a struct msghdr the caller built in a buffer (its pointers from addressOf()). */
export const sendmsg = libc.func('intptr_t sendmsg(int fd, const void *msg, int flags)') as (fd: number, msg: ArrayBufferView, flags: number) => number;
export const recvmsg = libc.func('intptr_t recvmsg(int fd, void *msg, int flags)') as (fd: number, msg: ArrayBufferView, flags: number) => number;
export const shutdown = libc.func('int shutdown(int fd, int how)') as (fd: number, how: number) => number;
export const poll = libc.func('int poll(void *fds, unsigned long n, int timeout)') as (fds: ArrayBufferView, n: number, timeoutMs: number) => number;
export const fcntl = libc.func('fcntl', 'int', ['int', 'int', 'int']) as (fd: number, cmd: number, arg: number) => number;
export const memfd_create = libc.func('int memfd_create(const char *name, unsigned int flags)') as (name: string, flags: number) => number;
export const eventfd = libc.func('int eventfd(unsigned int initval, int flags)') as (init: number, flags: number) => number;
export const if_nametoindex = libc.func('unsigned int if_nametoindex(const char *name)') as (name: string) => number;
/** readv/writev with an iovec array at a native address (data paths keep theirs in EAL memory). */
export const readvAt = libc.func('readv', 'intptr_t', ['int', 'void *', 'int']) as (fd: number, iov: bigint, n: number) => number;
export const writevAt = libc.func('writev', 'intptr_t', ['int', 'void *', 'int']) as (fd: number, iov: bigint, n: number) => number;
/** write(fd, address, n) from native memory (an EAL-region buffer whose address the caller holds). */
export const writeAt = libc.func('write', 'intptr_t', ['int', 'void *', 'size_t']) as (fd: number, buf: bigint, n: number) => number;
export const readAt = libc.func('read', 'intptr_t', ['int', 'void *', 'size_t']) as (fd: number, buf: bigint, n: number) => number;
/** pread(fd, address, n, fileOff) into native memory (a file port's staging buffer read in large chunks). */
export const preadAt = libc.func('pread', 'intptr_t', ['int', 'void *', 'size_t', 'int64_t']) as
  (fd: number, buf: bigint, n: number, off: number) => number;
export const CLOCK_REALTIME = 0;
/**
 * clock_gettime(clk, ts) into a struct timespec (tv_sec, tv_nsec: two 64-bit words) at a native address the caller
 * holds: the current time without allocating (a pcap writer's timestamps; the vDSO answers, no syscall).
 */
export const clockGettimeAt = libc.func('clock_gettime', 'int', ['int', 'void *']) as (clk: number, ts: bigint) => number;

const strerror_ = libc.func('const char *strerror(int errnum)') as (e: number) => string;

export function errno(): number {
  return koffi.errno() as number;
}

export function strerror(e: number): string {
  return strerror_(e);
}

/** An Error carrying the errno of a failed libc call. */
export class SysError extends Error {
  readonly errno: number;
  constructor(what: string, err: number, hint?: string) {
    super(`${what}: ${strerror(err)} (errno ${err})${hint ? `. ${hint}` : ''}`);
    this.name = 'SysError';
    this.errno = err;
  }
}

/** Throws a SysError when a libc call returned a negative number. Returns rc otherwise. */
export function check(rc: number, what: string, hint?: string): number {
  if (rc < 0) throw new SysError(what, errno(), hint);
  return rc;
}

/** mmap that throws a SysError instead of returning MAP_FAILED. */
export function mmapChecked(addr: bigint | null, len: number, prot: number, flags: number, fd: number,
  off: number | bigint, what: string, hint?: string): bigint {
  const p = mmap(addr, len, prot, flags, fd, off);
  if (p === MAP_FAILED || p === null) throw new SysError(what, errno(), hint);
  return p;
}

/** A zero-copy ArrayBuffer over native memory. Every thread may make its own over the same address. */
export function view(addr: bigint, len: number): ArrayBuffer {
  return koffi.view(addr, len) as ArrayBuffer;
}

/** The native address of an ArrayBuffer or typed array (e.g. a Buffer passed to the kernel). */
export function addressOf(buf: ArrayBuffer | ArrayBufferView): bigint {
  return koffi.address(buf) as bigint;
}

// epoll (sys/epoll.h): RX interrupts. A lcore sleeps in epoll_wait on its queues' interrupt fds (ethdev's
// rxIntrWait); never called per packet. struct epoll_event is packed on x86-64: u32 events at 0, u64 data at 4.
export const EPOLL_CLOEXEC = 0o2000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLLIN = 0x001;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLONESHOT = 1 << 30;
export const EPOLL_EVENT_BYTES = 12;
export const epoll_create1 = libc.func('int epoll_create1(int flags)') as (flags: number) => number;
/** epoll_ctl with a struct epoll_event the caller filled (12 bytes), or null for EPOLL_CTL_DEL. */
export const epoll_ctl = libc.func('int epoll_ctl(int epfd, int op, int fd, void *ev)') as
  (epfd: number, op: number, fd: number, ev: ArrayBufferView | null) => number;
export const epoll_wait = libc.func('int epoll_wait(int epfd, _Out_ void *evs, int max, int timeout)') as
  (epfd: number, evs: ArrayBufferView, max: number, timeoutMs: number) => number;
