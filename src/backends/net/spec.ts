// Network backend specs as the CLI takes them, parsed into checked values before anything is opened:
//   tap=IFNAME[,pcap=FILE]     a TAP interface (tap.ts)
//   switch=NAME[,pcap=FILE]    a port on the in-process switch NAME, shared by every NIC that names it (switch.ts)
//   pcap=FILE                  record what the guest sends, nothing comes in (pcap.ts)
//   none                       no carrier
// Items are separated by commas, so neither a name nor a file can contain one. parseNetSpec throws only NetSpecError.

import { checkInterfaceName } from './tap.js';

export type NetSpec =
  | { readonly kind: 'none' }
  | { readonly kind: 'tap'; readonly ifname: string; readonly pcap: string | null }
  | { readonly kind: 'switch'; readonly name: string; readonly pcap: string | null }
  | { readonly kind: 'pcap'; readonly file: string };

export class NetSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetSpecError';
  }
}

export const NET_SPEC_USAGE = 'tap=IFNAME, switch=NAME, pcap=FILE or none (tap and switch take ,pcap=FILE to capture)';
/** Switch names: a letter or digit, then letters, digits, '_', '.', '-'; at most 32 characters. */
const SWITCH_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
const MAX_PATH_BYTES = 4095;

/** How a text from the command line appears in an error: quoted, control characters escaped, long ones cut. */
function show(text: string): string {
  const cut = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return JSON.stringify(cut);
}

function checkFile(file: string, spec: string): string {
  const fail = (why: string): never => { throw new NetSpecError(`net backend ${show(spec)}: ${why}`); };
  if (file.length === 0) fail('pcap= needs a file name (pcap=FILE)');
  if (file.includes('\0')) fail('the pcap file name contains a NUL character');
  if (Buffer.byteLength(file, 'utf8') > MAX_PATH_BYTES) fail(`the pcap file name is longer than ${MAX_PATH_BYTES} bytes`);
  return file;
}

/** Parses a backend spec; throws NetSpecError saying what was wrong and what is expected. */
export function parseNetSpec(spec: string): NetSpec {
  const fail = (why: string): never => { throw new NetSpecError(`net backend ${show(spec)}: ${why}; expected ${NET_SPEC_USAGE}`); };
  if (typeof spec !== 'string' || spec.length === 0) fail('empty');
  let kind: 'none' | 'tap' | 'switch' | null = null;
  let value = '';
  let pcap: string | null = null;
  for (const item of spec.split(',')) {
    if (item.length === 0) fail('an empty item (two commas, or a comma at an end)');
    if (item === 'none') {
      if (kind !== null) fail(`'none' together with ${kind}=`);
      kind = 'none';
      continue;
    }
    const eq = item.indexOf('=');
    if (eq < 0) fail(`${show(item)} is not key=value`);
    const key = item.slice(0, eq);
    const val = item.slice(eq + 1);
    switch (key) {
      case 'tap':
      case 'switch':
        if (kind !== null) fail(kind === key ? `${key}= given twice` : `both ${kind === 'none' ? "'none'" : `${kind}=`} and ${key}=`);
        kind = key;
        value = val;
        break;
      case 'pcap':
        if (pcap !== null) fail('pcap= given twice');
        pcap = checkFile(val, spec);
        break;
      default:
        fail(`unknown key ${show(key)}`);
    }
  }
  switch (kind) {
    case 'none':
      if (pcap !== null) fail("'none' takes no capture; for a capture-only backend write pcap=FILE alone");
      return { kind: 'none' };
    case 'tap': {
      const bad = checkInterfaceName(value);
      if (bad !== null) fail(`tap=${show(value).slice(1, -1)}: ${bad}`);
      return { kind: 'tap', ifname: value, pcap };
    }
    case 'switch':
      if (!SWITCH_NAME.test(value)) fail('a switch name is 1 to 32 letters, digits, \'_\', \'.\' or \'-\', starting with a letter or digit');
      return { kind: 'switch', name: value, pcap };
    case null:
      // Only pcap= was given (the loop ran at least once and every item set something).
      return { kind: 'pcap', file: pcap! };
  }
}

/** The canonical text of a spec; parseNetSpec(formatNetSpec(s)) equals s. */
export function formatNetSpec(spec: NetSpec): string {
  switch (spec.kind) {
    case 'none': return 'none';
    case 'pcap': return `pcap=${spec.file}`;
    case 'tap': return spec.pcap === null ? `tap=${spec.ifname}` : `tap=${spec.ifname},pcap=${spec.pcap}`;
    case 'switch': return spec.pcap === null ? `switch=${spec.name}` : `switch=${spec.name},pcap=${spec.pcap}`;
  }
}
