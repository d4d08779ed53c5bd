// The host file of `vmio run --config FILE`: several VMs, their devices and links, in one JSON document. Each
// VM's settings are the options of `vmio run` (same names, same checks); every mistake is one line naming the VM
// and the key, and what to do.
//
// {
//   "vms": [
//     { "name": "a", "memory": 128, "nics": ["switch=lan,model=virtio-net"], "input": "ping -c 3 10.0.0.2\npoweroff\n" },
//     { "name": "b", "drives": ["b.img"], "nics": ["switch=lan,model=virtio-net"] }
//   ]
// }
//
// Direct I/O: "vfs": ["dd:0"] gives this VM VF 0 of the igb PF (--nic …,model=igb) of VM "dd", the driver domain.
// An entry takes options: "dd:0,dma=window[,window=MIB],irq=hypervisor" — the IOMMU maps only a restricted DMA
// window (the guest bounces through a restricted-dma-pool) instead of the whole RAM, and the VF's interrupts are
// priced as injected by the hypervisor (an exit each) instead of posted to the guest's interrupt file.

import { readFileSync } from 'node:fs';
import { parseRunOptions, UsageError, type RunConfig } from './run-options.js';

export interface HostVmConfig {
  name: string;
  run: RunConfig;
  /** A script typed into this VM's console (as `printf … | vmio run` would), or null. */
  input: string | null;
  /** SR-IOV VFs of other VMs' igb PFs assigned to this VM ("vfs": ["DOMAIN:INDEX[,options]"]). */
  vfs: VfEntry[];
}

/** One "vfs" entry: which VF, and how the hypervisor confines its DMA and delivers its interrupts. */
export interface VfEntry {
  domain: string;
  index: number;
  /** 'whole-ram': the IOMMU maps all of the guest's RAM (VFIO type 1); 'window': only a restricted DMA pool. */
  dma: 'whole-ram' | 'window';
  /** Size of the restricted DMA window in MiB (dma=window). */
  windowMiB: number;
  /** 'direct': MSIs posted to the guest's interrupt file; 'hypervisor': injected by the hypervisor, an exit each. */
  irq: 'direct' | 'hypervisor';
}

/** Default restricted DMA window: igbvf's two rings and 256 receive buffers of 2 KiB bounce through it with room. */
export const DEFAULT_VF_WINDOW_MIB = 4;

// person-controlled: one "vfs" entry of the host file.
export function parseVfEntry(vm: string, x: unknown): VfEntry {
  const usage = '"DOMAIN:INDEX[,dma=whole-ram|window][,window=MIB][,irq=direct|hypervisor]" (a VM name and a VF index 0..7), e.g. "dd:0"';
  const parts = typeof x === 'string' ? x.split(',') : [];
  const m = /^([A-Za-z0-9_-]{1,32}):([0-7])$/.exec(parts[0] ?? '');
  if (m === null) throw new HostConfigError(`VM "${vm}": "vfs" entry ${JSON.stringify(x)} is not ${usage}`);
  const e: VfEntry = { domain: m[1]!, index: Number(m[2]), dma: 'whole-ram', windowMiB: DEFAULT_VF_WINDOW_MIB, irq: 'direct' };
  let window = false;
  for (const p of parts.slice(1)) {
    const [k, v] = p.split('=', 2) as [string, string | undefined];
    if (k === 'dma' && (v === 'whole-ram' || v === 'window')) e.dma = v;
    else if (k === 'irq' && (v === 'direct' || v === 'hypervisor')) e.irq = v;
    else if (k === 'window' && v !== undefined && /^[0-9]{1,4}$/.test(v) && Number(v) >= 1 && Number(v) <= 1024) { e.windowMiB = Number(v); window = true; }
    else throw new HostConfigError(`VM "${vm}": "vfs" entry ${JSON.stringify(x)}: '${p}' is not an option; the form is ${usage}, window 1..1024 MiB`);
  }
  if (window && e.dma !== 'window') throw new HostConfigError(`VM "${vm}": "vfs" entry ${JSON.stringify(x)}: window= sizes the restricted DMA window; add dma=window`);
  return e;
}

export interface HostConfig {
  vms: HostVmConfig[];
}

export class HostConfigError extends Error {}

/** Keys of a VM object and the `vmio run` option each stands for (a list: repeatable; 'flag': boolean). */
const VM_KEYS: Readonly<Record<string, { option: string; kind: 'string' | 'number' | 'list' | 'flag' }>> = {
  kernel: { option: '--kernel', kind: 'string' },
  initrd: { option: '--initrd', kind: 'string' },
  append: { option: '--append', kind: 'string' },
  memory: { option: '--memory', kind: 'number' },
  smp: { option: '--smp', kind: 'number' },
  bios: { option: '--bios', kind: 'string' },
  irqchip: { option: '--irqchip', kind: 'string' },
  cost: { option: '--cost', kind: 'string' },
  drives: { option: '--drive', kind: 'list' },
  nics: { option: '--nic', kind: 'list' },
  rng: { option: '--rng', kind: 'string' },
  consolePort: { option: '--console-port', kind: 'string' },
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// person-controlled: the host file.
export function parseHostConfig(text: string, file: string): HostConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new HostConfigError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw new HostConfigError(`${file}: the top level must be an object with a "vms" list`);
  for (const k of Object.keys(doc)) if (k !== 'vms') throw new HostConfigError(`${file}: unknown key "${k}" at the top level; the only key is "vms"`);
  const vms = doc['vms'];
  if (!Array.isArray(vms) || vms.length === 0) throw new HostConfigError(`${file}: "vms" must be a non-empty list of VM objects`);
  const out: HostVmConfig[] = [];
  const names = new Set<string>();
  vms.forEach((vm, i) => {
    const where = `${file}: vms[${i}]`;
    if (!isObject(vm)) throw new HostConfigError(`${where} must be an object`);
    const name = vm['name'];
    if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(name)) throw new HostConfigError(`${where}: "name" must be 1..32 letters, digits, '-' or '_'`);
    if (names.has(name)) throw new HostConfigError(`${file}: two VMs are named "${name}"; names must be unique`);
    names.add(name);
    const args: string[] = [];
    let input: string | null = null;
    const vfs: VfEntry[] = [];
    for (const [k, v] of Object.entries(vm)) {
      if (k === 'name') continue;
      if (k === 'vfs') {
        if (!Array.isArray(v)) throw new HostConfigError(`VM "${name}": "vfs" must be a list of "DOMAIN:INDEX" strings (VF INDEX of the igb PF of VM DOMAIN)`);
        for (const x of v as unknown[]) vfs.push(parseVfEntry(name, x));
        // One IOMMU domain per guest: its VFs share one DMA policy and one way of delivering interrupts.
        if (vfs.some((f) => f.dma !== vfs[0]!.dma || f.windowMiB !== vfs[0]!.windowMiB || f.irq !== vfs[0]!.irq)) {
          throw new HostConfigError(`VM "${name}": its "vfs" entries differ in dma=, window= or irq=; a guest's VFs share one IOMMU domain, so give them the same options`);
        }
        continue;
      }
      if (k === 'input') {
        if (typeof v !== 'string') throw new HostConfigError(`VM "${name}": "input" must be a string (the console script)`);
        input = v;
        continue;
      }
      const spec = VM_KEYS[k];
      if (spec === undefined) throw new HostConfigError(`VM "${name}": unknown key "${k}"; the keys are name, input, vfs, ${Object.keys(VM_KEYS).join(', ')}`);
      if (spec.kind === 'list') {
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new HostConfigError(`VM "${name}": "${k}" must be a list of strings`);
        for (const x of v as string[]) args.push(spec.option, x);
      } else if (spec.kind === 'number') {
        if (typeof v !== 'number') throw new HostConfigError(`VM "${name}": "${k}" must be a number`);
        args.push(spec.option, String(v));
      } else {
        if (typeof v !== 'string') throw new HostConfigError(`VM "${name}": "${k}" must be a string`);
        args.push(spec.option, v);
      }
    }
    let run: RunConfig;
    try {
      const r = parseRunOptions(args);
      if (r === 'help') throw new UsageError('unexpected help');
      run = r;
    } catch (e) {
      if (e instanceof UsageError) throw new HostConfigError(`VM "${name}": ${e.message.replace(/ Run 'vmio run --help'.*$/, '')}`);
      throw e;
    }
    out.push({ name, run, input, vfs });
  });
  checkSharing(out);
  checkVfs(out);
  return { vms: out };
}

/** Two VMs may not open one disk image read-write, nor one TAP device. */
function checkSharing(vms: readonly HostVmConfig[]): void {
  const disks = new Map<string, string>();
  const taps = new Map<string, string>();
  for (const vm of vms) {
    for (const d of vm.run.drives) {
      const other = disks.get(d.file);
      if (other !== undefined && (!d.readOnly || other.endsWith('(rw)'))) {
        throw new HostConfigError(`VMs "${other.replace(/ \(r[ow]\)$/, '')}" and "${vm.name}" both open ${d.file} and one of them read-write; give each VM its own image or open it ,ro in both`);
      }
      disks.set(d.file, `${vm.name} (${d.readOnly ? 'ro' : 'rw'})`);
    }
    for (const n of vm.run.nics) {
      if (n.backend.kind !== 'tap') continue;
      const other = taps.get(n.backend.ifname);
      if (other !== undefined) throw new HostConfigError(`VMs "${other}" and "${vm.name}" both claim TAP device ${n.backend.ifname}; connect them through a switch (switch=NAME) with one TAP uplink instead`);
      taps.set(n.backend.ifname, vm.name);
    }
  }
}

/** Each assigned VF names another VM that has an igb NIC, a VF index below its TotalVFs (8), and one owner. */
function checkVfs(vms: readonly HostVmConfig[]): void {
  const owners = new Map<string, string>();
  for (const vm of vms) {
    for (const { domain, index } of vm.vfs) {
      const key = `${domain}:${index}`;
      if (domain === vm.name) throw new HostConfigError(`VM "${vm.name}": "vfs" entry "${key}" names this VM itself; its own VFs appear in it when enabled, without "vfs"`);
      const dd = vms.find((o) => o.name === domain);
      if (dd === undefined) throw new HostConfigError(`VM "${vm.name}": "vfs" entry "${key}" names no VM of this file; the VMs are ${vms.map((o) => o.name).join(', ')}`);
      if (!dd.run.nics.some((n) => n.model === 'igb')) throw new HostConfigError(`VM "${vm.name}": "vfs" entry "${key}": VM "${domain}" has no igb NIC; give it one ("nics": ["switch=lan,model=igb"])`);
      if (vm.run.irqchip !== 'aia') throw new HostConfigError(`VM "${vm.name}": an igb VF has MSI-X only; drop "irqchip": "plic" from a VM that gets "vfs"`);
      const other = owners.get(key);
      if (other !== undefined) throw new HostConfigError(`VMs "${other}" and "${vm.name}" both claim VF "${key}"; a VF has one owner`);
      owners.set(key, vm.name);
    }
  }
}

export function readHostConfig(file: string): HostConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new HostConfigError(`cannot read the host file ${file}: ${(e as Error).message}`);
  }
  return parseHostConfig(text, file);
}
