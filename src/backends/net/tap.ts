// TAP backend: a Linux TUN/TAP interface in TAP mode (Ethernet frames), Documentation/networking/tuntap.rst and
// include/uapi/linux/if_tun.h. vmio opens /dev/net/tun and attaches it to an interface with the TUNSETIFF ioctl,
// creating the interface if it does not exist (needs CAP_NET_ADMIN) or taking one made beforehand with
// `ip tuntap add dev NAME mode tap user USER`. The host side gets its address and state from the user (`ip`).
//
// How frames are read in Node 20. One read() on the tun file descriptor returns exactly one frame, and one write()
// sends exactly one, so the fd must be read and written by plain read/write calls, one per frame:
//  - fs.read / fs.createReadStream on a blocking fd park a libuv pool thread in read() until a frame comes; that
//    thread cannot be interrupted, so the stream cannot be closed and the process cannot exit (Node documents this
//    for character devices).
//  - net.Socket refuses a character-device fd (ERR_INVALID_FD_TYPE), and its writev would merge queued frames.
//  - So the fd is opened O_NONBLOCK; libc's poll() waits for it on a koffi worker thread (an async FFI call), together
//    with an eventfd that close() signals; when poll returns, the main thread reads frames with non-blocking read()
//    calls until EAGAIN, hands each to onFrame, and polls again. A bounded poll timeout guards against a lost wake.
// Writes are synchronous fs.writeSync calls (a tun write never blocks: the kernel takes the frame at once or fails).

import { closeSync, openSync, writeSync, constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { createRequire } from 'node:module';
import { ETH_HLEN, MAX_FRAME_LEN } from './ethernet.js';
import { PortCounters, type FrameSink, type NetBackend } from './port.js';

export const TUN_DEVICE = '/dev/net/tun';
/** _IOW('T', 202, int): (write << 30) | (sizeof(int) << 16) | ('T' << 8) | 202. */
export const TUNSETIFF = 0x400454ca;
/** TUNSETIFF ifr_flags (if_tun.h). */
export const IFF_TUN = 0x0001;
export const IFF_TAP = 0x0002;
export const IFF_NO_PI = 0x1000;
export const IFF_VNET_HDR = 0x4000;
/** include/uapi/linux/if.h: interface names are at most IFNAMSIZ - 1 bytes plus a NUL. */
export const IFNAMSIZ = 16;
/** struct ifreq on x86-64 Linux: ifr_name[IFNAMSIZ], then a 24-byte union whose ifr_flags (short) comes first. */
export const IFREQ_SIZE = 40;
export const IFR_FLAGS_OFFSET = 16;

const POLLIN = 0x001;
const POLLERR = 0x008;
const POLLHUP = 0x010;
const POLLNVAL = 0x020;
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;
/** struct pollfd: int fd; short events; short revents. */
const POLLFD_SIZE = 8;
/** Longest wait of one poll() before it is re-armed (a safety net: close() wakes it through the eventfd). */
const POLL_TIMEOUT_MS = 1000;
/** Frames read per wake before polling again, so one busy TAP cannot hold the event loop. */
const MAX_READS_PER_WAKE = 64;

/** A TAP failure a person can act on; `code` is the errno name (ENOENT, EPERM, EBUSY, ...). */
export class TapError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'TapError';
  }
}

/** The one-line message for a failure to open (`open`) or attach (`attach`) a TAP. */
export function tapErrorMessage(step: 'open' | 'attach', code: string, ifname: string, device = TUN_DEVICE): string {
  const setcap = 'run vmio as root or give node CAP_NET_ADMIN: `sudo setcap cap_net_admin+ep $(which node)`';
  if (step === 'open') {
    switch (code) {
      case 'ENOENT':
      case 'ENXIO':
      case 'ENODEV':
        return `TAP '${ifname}': cannot open ${device} (${code}): the TUN/TAP driver is missing; load the tun module (\`sudo modprobe tun\`) or run in a machine with ${device}`;
      case 'EACCES':
      case 'EPERM':
        return `TAP '${ifname}': no permission to open ${device} (${code}); ${setcap}`;
      default:
        return `TAP '${ifname}': cannot open ${device} (${code})`;
    }
  }
  switch (code) {
    case 'EPERM':
      return `TAP '${ifname}': creating or attaching the interface needs CAP_NET_ADMIN (EPERM); ${setcap}, or create it for your user first: \`sudo ip tuntap add dev ${ifname} mode tap user $USER\``;
    case 'EBUSY':
      return `TAP '${ifname}': the interface is busy (EBUSY): another process (another vmio, QEMU) has it open; stop that process or choose another name`;
    case 'EINVAL':
      return `TAP '${ifname}': an interface of that name exists and is not a TAP interface (EINVAL); choose another name, or remove it with \`sudo ip link del ${ifname}\``;
    default:
      return `TAP '${ifname}': TUNSETIFF failed (${code})`;
  }
}

/**
 * Why the kernel would refuse an interface name (net/core/dev.c dev_valid_name, and __dev_alloc_name for a
 * "%d" template), or null: 1..IFNAMSIZ-1 bytes, not . or .., no '/', ':' or whitespace, '%' only as one "%d".
 */
export function checkInterfaceName(ifname: string): string | null {
  const bytes = Buffer.byteLength(ifname, 'utf8');
  if (bytes === 0 || bytes > IFNAMSIZ - 1) return `an interface name has 1 to ${IFNAMSIZ - 1} bytes (got ${bytes})`;
  if (ifname === '.' || ifname === '..') return `'${ifname}' is not a valid interface name`;
  if (/[/:\s\0]/.test(ifname)) return `an interface name cannot contain '/', ':', NUL or whitespace`;
  const pct = ifname.indexOf('%');
  if (pct >= 0 && (ifname[pct + 1] !== 'd' || ifname.includes('%', pct + 2))) return `'%' in an interface name may only appear once, as "%d" (the kernel's number)`;
  return null;
}

/** Builds a struct ifreq for TUNSETIFF. */
export function makeIfreq(ifname: string, flags: number): Buffer {
  const ifr = Buffer.alloc(IFREQ_SIZE);
  ifr.write(ifname, 0, IFNAMSIZ - 1, 'utf8');
  ifr.writeUInt16LE(flags, IFR_FLAGS_OFFSET);
  return ifr;
}

/** The NUL-terminated ifr_name of a struct ifreq. */
export function ifreqName(ifr: Uint8Array): string {
  let end = 0;
  while (end < IFNAMSIZ && ifr[end] !== 0) end++;
  return Buffer.from(ifr.buffer, ifr.byteOffset, end).toString('utf8');
}

const errnoNames = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));
/** Linux-only errno values Node does not list (asm-generic/errno.h): a tun fd whose interface was deleted reads EBADFD. */
errnoNames.set(77, 'EBADFD');
function errnoName(n: number): string { return errnoNames.get(n) ?? `errno ${n}`; }

type Koffi = typeof import('koffi');
type Fn = ReturnType<ReturnType<Koffi['load']>['func']>;

interface Libc {
  koffi: Koffi;
  ioctl: Fn;
  poll: Fn;
  read: Fn;
  eventfd: Fn;
}

let libcCache: Libc | null = null;

/** libc through koffi, loaded on first use so that vmio without TAP never loads a native module. */
function libc(): Libc {
  if (libcCache !== null) return libcCache;
  const koffi = createRequire(import.meta.url)('koffi') as Koffi;
  const lib = koffi.load('libc.so.6');
  libcCache = {
    koffi,
    ioctl: lib.func('int ioctl(int fd, unsigned long request, ...)'),
    poll: lib.func('int poll(void *fds, unsigned long nfds, int timeout)'),
    read: lib.func('long read(int fd, void *buf, unsigned long count)'),
    eventfd: lib.func('int eventfd(unsigned int initval, int flags)'),
  };
  return libcCache;
}

export interface TapOptions {
  /** The clone device (tests point it elsewhere to see the missing-driver error). */
  readonly device?: string;
  /** Told once, with a one-line reason, if the backend stops on its own (interface deleted, read error). */
  readonly onFailure?: (message: string) => void;
}

/** A TAP interface as a backend. Frames the NIC sends are written to it; frames read from it go to onFrame. */
export class TapBackend implements NetBackend {
  onFrame: FrameSink | null = null;
  readonly counters = new PortCounters();
  /** Why the backend stopped on its own (the interface was deleted, a read failed), or null. */
  failure: string | null = null;
  /** Resolves once the file descriptors are closed after close(). */
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly lib: Libc;
  private readonly pollfds = Buffer.alloc(2 * POLLFD_SIZE);
  private readonly rbuf = Buffer.alloc(MAX_FRAME_LEN + 1);
  private polling = false;
  private closing = false;
  private fdsClosed = false;
  /** Writes that failed, by errno name (EIO: the host side of the interface is down). */
  readonly writeErrors = new Map<string, number>();

  private constructor(readonly name: string, readonly ifname: string, private readonly fd: number, private readonly efd: number, lib: Libc,
    private readonly onFailure: ((message: string) => void) | null) {
    this.lib = lib;
    this.closed = new Promise((r) => { this.resolveClosed = r; });
    this.pollfds.writeInt32LE(fd, 0);
    this.pollfds.writeInt16LE(POLLIN, 4);
    this.pollfds.writeInt32LE(efd, POLLFD_SIZE);
    this.pollfds.writeInt16LE(POLLIN, POLLFD_SIZE + 4);
    this.armPoll();
  }

  /**
   * Opens /dev/net/tun and attaches it to TAP interface `ifname` (IFF_TAP | IFF_NO_PI), creating the interface if
   * needed; a name with %d lets the kernel number it (see `ifname` for the result). Throws TapError.
   */
  static open(ifname: string, options: TapOptions = {}): TapBackend {
    const device = options.device ?? TUN_DEVICE;
    const bad = checkInterfaceName(ifname);
    if (bad !== null) throw new TapError(`TAP '${ifname}': ${bad}`, 'EINVAL');
    let fd: number;
    try {
      fd = openSync(device, fsConstants.O_RDWR | fsConstants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      throw new TapError(tapErrorMessage('open', code, ifname, device), code);
    }
    let efd = -1;
    try {
      const lib = libc();
      const ifr = makeIfreq(ifname, IFF_TAP | IFF_NO_PI);
      if (lib.ioctl(fd, TUNSETIFF, 'uint8_t *', ifr) < 0) {
        const code = errnoName(lib.koffi.errno());
        throw new TapError(tapErrorMessage('attach', code, ifname), code);
      }
      efd = lib.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) as number;
      if (efd < 0) {
        const code = errnoName(lib.koffi.errno());
        throw new TapError(`TAP '${ifname}': eventfd failed (${code})`, code);
      }
      const actual = ifreqName(ifr);
      return new TapBackend(`tap:${actual}`, actual, fd, efd, lib, options.onFailure ?? null);
    } catch (e) {
      closeSync(fd);
      if (efd >= 0) closeSync(efd);
      throw e;
    }
  }

  get linkUp(): boolean { return !this.closing && this.failure === null; }
  get live(): boolean { return this.linkUp; }

  send(frame: Uint8Array): void {
    if (!this.linkUp) { this.counters.txDropped++; return; }
    try {
      const n = writeSync(this.fd, frame);
      if (n !== frame.length) { this.counters.txDropped++; return; }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      this.writeErrors.set(code, (this.writeErrors.get(code) ?? 0) + 1);
      this.counters.txDropped++;
      return;
    }
    this.counters.txFrames++;
    this.counters.txBytes += frame.length;
  }

  private armPoll(): void {
    if (this.fdsClosed) return; // failed while draining: never poll a closed (maybe reused) fd number
    if (this.closing) { this.closeFds(); return; }
    this.pollfds.writeInt16LE(0, 6);
    this.pollfds.writeInt16LE(0, POLLFD_SIZE + 6);
    this.polling = true;
    this.lib.poll.async(this.pollfds, 2, POLL_TIMEOUT_MS, (err: unknown, res: number) => {
      this.polling = false;
      if (this.closing) { this.closeFds(); return; }
      if (err !== null && err !== undefined) { this.fail(`poll failed: ${String(err)}`); return; }
      if (res < 0) {
        const code = errnoName(this.lib.koffi.errno());
        if (code !== 'EINTR') { this.fail(`poll failed (${code})`); return; }
      }
      const revents = this.pollfds.readInt16LE(6);
      if ((revents & (POLLERR | POLLHUP | POLLNVAL)) !== 0) {
        this.fail(this.goneMessage(`poll revents 0x${revents.toString(16)}`));
        return;
      }
      if ((revents & POLLIN) !== 0) this.drain();
      this.armPoll();
    });
  }

  /** Reads the frames waiting, one read() per frame, until EAGAIN or MAX_READS_PER_WAKE. */
  private drain(): void {
    const buf = this.rbuf;
    for (let i = 0; i < MAX_READS_PER_WAKE && !this.closing; i++) {
      const n = this.lib.read(this.fd, buf, buf.length) as number;
      if (n < 0) {
        const code = errnoName(this.lib.koffi.errno());
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return;
        if (code === 'EINTR') continue;
        this.fail(code === 'EBADFD' ? this.goneMessage(code) : `read failed (${code})`);
        return;
      }
      // A read filling the whole buffer was cut short by it: longer than any frame a backend carries.
      if (n < ETH_HLEN || n > MAX_FRAME_LEN) { this.counters.rxDropped++; continue; }
      const sink = this.onFrame;
      if (sink === null) { this.counters.rxDropped++; continue; }
      this.counters.rxFrames++;
      this.counters.rxBytes += n;
      sink(buf.subarray(0, n));
    }
  }

  private goneMessage(detail: string): string {
    return `the interface went away (${detail}): was it deleted (\`ip link del ${this.ifname}\`)? Restart with a TAP that exists`;
  }

  private fail(why: string): void {
    this.failure = `TAP '${this.ifname}': ${why}`;
    this.closeFds();
    this.onFailure?.(this.failure);
  }

  private closeFds(): void {
    if (this.fdsClosed) return;
    this.fdsClosed = true;
    closeSync(this.fd);
    closeSync(this.efd);
    this.resolveClosed();
  }

  /** Stops reading and closes the fd (an interface vmio created then disappears). Await `closed` to know it is gone. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (this.fdsClosed) return;
    if (!this.polling) { this.closeFds(); return; }
    // Wake the poll() in flight; its callback closes the fds once the worker no longer uses them.
    const one = Buffer.alloc(8);
    one.writeBigUInt64LE(1n);
    writeSync(this.efd, one);
  }
}
