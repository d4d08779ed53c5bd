// Device options of `vmio run` (and of VMs in a host file): `--drive FILE[,ro][,transport=pci|mmio][,serial=S]`
// and the virtio transport choice, parsed into checked values with one clear line per mistake.

export type VirtioTransport = 'pci' | 'mmio';

export interface DriveSpec {
  file: string;
  readOnly: boolean;
  transport: VirtioTransport;
  serial: string | null;
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
  for (const [k, v] of opts) {
    if (k === 'ro') {
      if (v !== null) throw new DeviceSpecError(`--drive '${spec}': 'ro' takes no value`);
      readOnly = true;
    } else if (k === 'transport') {
      transport = parseTransport(`--drive '${spec}'`, v);
    } else if (k === 'serial') {
      if (v === null || !/^[\x20-\x7e]{1,20}$/.test(v)) throw new DeviceSpecError(`--drive '${spec}': serial must be 1..20 printable ASCII characters`);
      serial = v;
    } else {
      throw new DeviceSpecError(`--drive '${spec}': unknown option '${k}'; the options are ro, transport=pci|mmio, serial=TEXT`);
    }
  }
  return { file, readOnly, transport, serial };
}
