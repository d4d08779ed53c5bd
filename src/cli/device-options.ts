// Device options of `vmio run` (and of VMs in a host file): `--drive FILE[,ro][,transport=pci|mmio][,serial=S]`,
// `--nic BACKEND[,model=…]…` and the virtio transport choice, parsed into checked values with one clear line per mistake.

import { NetSpecError, parseNetSpec, type NetSpec } from '../backends/net/spec.js';

export type VirtioTransport = 'pci' | 'mmio';

export interface DriveSpec {
  file: string;
  readOnly: boolean;
  transport: VirtioTransport;
  serial: string | null;
  /** Offer VIRTIO_RING_F_EVENT_IDX (default on; `eventidx=off` for measurements). */
  eventIdx: boolean;
}

export class DeviceSpecError extends Error {}

/** Splits `a,b=c,d` into [head, options]; a value may not contain a comma. */
function splitSpec(what: string, spec: string): [string, Map<string, string | null>] {
  const parts = spec.split(',');
  const head = parts[0] ?? '';
  const opts = new Map<string, string | null>();
  for (const p of parts.slice(1)) {
    if (p === '') throw new DeviceSpecError(`${what} '${spec}': an empty option (two commas in a row, or a trailing comma)`);
    const eq = p.indexOf('=');
    const key = eq < 0 ? p : p.slice(0, eq);
    if (opts.has(key)) throw new DeviceSpecError(`${what} '${spec}': option '${key}' is given twice`);
    opts.set(key, eq < 0 ? null : p.slice(eq + 1));
  }
  return [head, opts];
}

export function parseOnOff(what: string, v: string | null | undefined): boolean {
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw new DeviceSpecError(`${what} must be on or off, got '${v ?? ''}'`);
}

export function parseTransport(what: string, v: string | null | undefined, def: VirtioTransport = 'pci'): VirtioTransport {
  if (v === undefined) return def;
  if (v === 'pci' || v === 'mmio') return v;
  throw new DeviceSpecError(`${what}: transport must be pci or mmio, got '${v ?? ''}'`);
}

// guest-independent but person-controlled: the --drive text.
export function parseDriveSpec(spec: string): DriveSpec {
  const [file, opts] = splitSpec('--drive', spec);
  if (file === '') throw new DeviceSpecError(`--drive '${spec}': give the image file first, e.g. --drive disk.img,ro`);
  let readOnly = false;
  let transport: VirtioTransport = 'pci';
  let serial: string | null = null;
  let eventIdx = true;
  for (const [k, v] of opts) {
    if (k === 'ro') {
      if (v !== null) throw new DeviceSpecError(`--drive '${spec}': 'ro' takes no value`);
      readOnly = true;
    } else if (k === 'transport') {
      transport = parseTransport(`--drive '${spec}'`, v);
    } else if (k === 'eventidx') {
      eventIdx = parseOnOff(`--drive '${spec}': eventidx`, v);
    } else if (k === 'serial') {
      if (v === null || !/^[\x20-\x7e]{1,20}$/.test(v)) throw new DeviceSpecError(`--drive '${spec}': serial must be 1..20 printable ASCII characters`);
      serial = v;
    } else {
      throw new DeviceSpecError(`--drive '${spec}': unknown option '${k}'; the options are ro, transport=pci|mmio, serial=TEXT, eventidx=on|off`);
    }
  }
  return { file, readOnly, transport, serial, eventIdx };
}

/** `--console-port OUT[,in=FILE][,name=NAME][,transport=pci|mmio]`. */
export interface ConsolePortSpec {
  /** Where guest output goes: a file (appended), 'stdio', 'none', or 'unix:PATH' (a socket vmio listens on, both ways). */
  path: string;
  /** A file whose bytes are the host's input to the port, or null. */
  input: string | null;
  /** A named generic port (/dev/vport0p1) instead of the console port (/dev/hvcN), or null. */
  name: string | null;
  transport: VirtioTransport;
}

// guest-independent but person-controlled: the --console-port text.
export function parseConsolePortSpec(spec: string): ConsolePortSpec {
  const [path, opts] = splitSpec('--console-port', spec);
  if (path === '') throw new DeviceSpecError(`--console-port '${spec}': give where the guest's output goes first (a file, stdio or none), e.g. --console-port out.txt,in=in.txt`);
  let input: string | null = null;
  let name: string | null = null;
  let transport: VirtioTransport = 'pci';
  if (path.startsWith('unix:') && path.length === 'unix:'.length) throw new DeviceSpecError(`--console-port '${spec}': unix: needs the socket's path, e.g. unix:/tmp/vm.sock`);
  for (const [k, v] of opts) {
    if (k === 'in') {
      if (path.startsWith('unix:')) throw new DeviceSpecError(`--console-port '${spec}': a unix: port takes its input from the socket's client; drop in=`);
      if (v === null || v === '') throw new DeviceSpecError(`--console-port '${spec}': in= needs a file name`);
      input = v;
    } else if (k === 'name') {
      // Linux shows the name in sysfs and udev makes /dev/virtio-ports/NAME of it: keep it a plain file name.
      if (v === null || !/^[A-Za-z0-9._-]{1,64}$/.test(v)) throw new DeviceSpecError(`--console-port '${spec}': name must be 1..64 of A-Z a-z 0-9 . _ -`);
      name = v;
    } else if (k === 'transport') {
      transport = parseTransport(`--console-port '${spec}'`, v);
    } else {
      throw new DeviceSpecError(`--console-port '${spec}': unknown option '${k}'; the options are in=FILE, name=NAME, transport=pci|mmio`);
    }
  }
  return { path, input, name, transport };
}

export type NicModel = 'virtio-net' | 'e1000' | 'igb' | 'xen-net';

export interface NicSpec {
  /** Where its frames go: a TAP device, a software switch, a pcap file, or nowhere. */
  backend: NetSpec;
  model: NicModel;
  transport: VirtioTransport;
  /** Locally administered MAC, or null for one derived from the VM and NIC index. */
  mac: Uint8Array | null;
  /** Queue pairs (virtio-net multiqueue); 0: one per vCPU (the default, as the issue asks). */
  queues: number;
  /** Where the backend runs: after an exit to user space (QEMU-style) or in the host kernel (vhost-style). */
  where: 'user' | 'kernel';
  /** The e1000's emulation optimizations that are on. */
  e1000: E1000Switches;
  /** virtio-net: offer VIRTIO_RING_F_EVENT_IDX (default on). */
  eventIdx: boolean;
}

/** The classic optimizations of an emulated NIC, each a switch (issue: device emulation). */
export interface E1000Switches {
  coalesce: boolean;
  txbatch: boolean;
  itr: boolean;
  notify: boolean;
  inkernel: boolean;
}

const E1000_FLAGS: readonly (keyof E1000Switches)[] = ['coalesce', 'txbatch', 'itr', 'notify', 'inkernel'];

const NIC_KEYS = new Set(['model', 'transport', 'mac', 'queues', 'backend', 'eventidx', ...E1000_FLAGS]);

/** `--nic BACKEND[,model=virtio-net|e1000|igb|xen-net][,transport=pci|mmio][,mac=XX:..][,queues=N][,backend=user|kernel][,pcap=FILE]`. */
export function parseNicSpec(spec: string): NicSpec {
  const rest: string[] = [];
  let model: NicModel = 'virtio-net';
  let transport: VirtioTransport = 'pci';
  let mac: Uint8Array | null = null;
  let queues = 0;
  let where: 'user' | 'kernel' = 'user';
  const e1000: E1000Switches = { coalesce: false, txbatch: false, itr: false, notify: false, inkernel: false };
  let eventIdx = true;
  const seen = new Set<string>();
  for (const item of spec.split(',')) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    if (!NIC_KEYS.has(key)) { rest.push(item); continue; }
    if (seen.has(key)) throw new DeviceSpecError(`--nic '${spec}': option '${key}' is given twice`);
    seen.add(key);
    const v = eq < 0 ? '' : item.slice(eq + 1);
    if ((E1000_FLAGS as readonly string[]).includes(key)) {
      if (eq >= 0) throw new DeviceSpecError(`--nic '${spec}': '${key}' is a switch and takes no value`);
      e1000[key as keyof E1000Switches] = true;
    } else if (key === 'eventidx') {
      eventIdx = parseOnOff(`--nic '${spec}': eventidx`, v);
    } else if (key === 'model') {
      if (v !== 'virtio-net' && v !== 'e1000' && v !== 'igb' && v !== 'xen-net') throw new DeviceSpecError(`--nic '${spec}': model must be virtio-net, e1000, igb or xen-net, got '${v}'`);
      model = v;
    } else if (key === 'transport') {
      transport = parseTransport(`--nic '${spec}'`, v);
    } else if (key === 'mac') {
      const m = /^([0-9a-fA-F]{2})(:[0-9a-fA-F]{2}){5}$/.exec(v);
      if (m === null) throw new DeviceSpecError(`--nic '${spec}': mac must look like 52:54:00:12:34:56`);
      mac = Uint8Array.from(v.split(':').map((h) => parseInt(h, 16)));
      if ((mac[0]! & 1) !== 0) throw new DeviceSpecError(`--nic '${spec}': mac ${v} is a multicast address; the first byte must be even (e.g. 52:54:00:...)`);
    } else if (key === 'queues') {
      if (!/^[1-8]$/.test(v)) throw new DeviceSpecError(`--nic '${spec}': queues must be 1..8`);
      queues = Number(v);
    } else {
      if (v !== 'user' && v !== 'kernel') throw new DeviceSpecError(`--nic '${spec}': backend must be user or kernel, got '${v}'`);
      where = v;
    }
  }
  if (model !== 'virtio-net' && (seen.has('queues') || seen.has('transport') || seen.has('eventidx'))) {
    throw new DeviceSpecError(`--nic '${spec}': queues, transport and eventidx are virtio-net options; ${model === 'xen-net' ? 'a xen-net is a Xen vif (xenbus, no bus address)' : `an ${model} is always a PCI function`}`);
  }
  if (model !== 'e1000' && E1000_FLAGS.some((f) => seen.has(f))) {
    throw new DeviceSpecError(`--nic '${spec}': ${E1000_FLAGS.join(', ')} are e1000 switches; add model=e1000`);
  }
  let backend: NetSpec;
  try {
    backend = parseNetSpec(rest.join(','));
  } catch (e) {
    if (e instanceof NetSpecError) throw new DeviceSpecError(`--nic: ${e.message}`);
    throw e;
  }
  return { backend, model, transport, mac, queues, where, e1000, eventIdx };
}
