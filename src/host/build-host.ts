// Builds a Host from a host file: every VM on one virtual timeline (one clock), sharing the in-process network
// switches by name, each with its own console. Part of the wiring point: VMs are still built by build-vm.ts.

import { Readable } from 'node:stream';
import type { HostConfig } from '../cli/host-config.js';
import { buildVm } from './build-vm.js';
import { HostConsole } from './console.js';
import { DeterministicClock, RealtimeClock, type Clock } from './clock.js';
import { Host } from './host.js';
import type { Vm } from './vm.js';
import type { NetEnv } from '../backends/net/open.js';
import { VfAssignments } from './assign-vf.js';

/** Guest output of one VM of many: each line goes to `out` with a `[name] ` prefix. */
export class PrefixedOutput {
  private partial = '';
  constructor(private readonly prefix: string, private readonly out: { write(s: string): unknown }) {}
  write(bytes: Uint8Array): boolean {
    const text = this.partial + Buffer.from(bytes).toString('latin1');
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) this.out.write(`${this.prefix}${l.replace(/\r$/, '')}\n`);
    return true;
  }
  /** Writes what is left of an unfinished line. */
  end(): void {
    if (this.partial !== '') this.out.write(`${this.prefix}${this.partial}\n`);
    this.partial = '';
  }
}

export interface BuiltHost {
  host: Host;
  vms: Vm[];
  outputs: PrefixedOutput[];
  /** The SR-IOV VFs assigned between the VMs, and the IOMMU they sit behind. */
  assignments: VfAssignments;
}

/**
 * Builds every VM of the host file. `attach` names the VM whose console takes this terminal's input (the others
 * read their `input` script, or nothing).
 */
export async function buildHost(cfg: HostConfig, attach: string | null, realtime: boolean, stdout: { write(s: string): unknown } = process.stdout): Promise<BuiltHost> {
  const clock: Clock = realtime ? new RealtimeClock() : new DeterministicClock();
  const net: NetEnv = { switches: new Map(), clock };
  const assignments = new VfAssignments();
  const vms: Vm[] = [];
  const outputs: PrefixedOutput[] = [];
  try {
    for (const v of cfg.vms) {
      const out = new PrefixedOutput(`[${v.name}] `, stdout);
      outputs.push(out);
      const stdin = v.name === attach ? process.stdin
        : v.input !== null ? Readable.from([Buffer.from(v.input)]) as unknown as NodeJS.ReadStream : null;
      const console = new HostConsole(stdin, { write: (b: Uint8Array) => out.write(b) });
      vms.push(await buildVm(v.run, console, { clock, name: v.name, net, assignments, vfs: v.vfs }));
    }
  } catch (e) {
    for (const vm of vms) vm.close();
    for (const sw of net.switches.values()) sw.close();
    throw e;
  }
  return { host: new Host(clock, vms), vms, outputs, assignments };
}
