// `vmio run --config FILE`: several VMs from a host file on one virtual timeline, each console on its own
// `[name] `-prefixed stream (`--console NAME` gives one of them this terminal's input).

import { readHostConfig, HostConfigError } from './host-config.js';
import { buildHost } from '../host/build-host.js';
import { ConfigError } from '../host/build-vm.js';
import { CacheDirError } from '../image/cache-dir.js';
import { MetricsFile } from './metrics-file.js';
import type { VmExit } from '../host/vm.js';

export interface HostRunOptions {
  file: string;
  console: string | null;
  timeoutSeconds: number | null;
  metricsFile: string | null;
  realtime: boolean;
}

/** The exit status of a whole host: the worst of its VMs (VMM error 3 > timeout 124 > guest failure 1 > 0). */
export function hostStatus(exits: readonly VmExit[]): number {
  const rank = (e: VmExit): number => (e.kind === 'error' ? 3 : e.kind === 'timeout' ? 124 : e.kind === 'fail' || e.kind === 'panic' ? 1 : 0);
  const order = [0, 1, 124, 3];
  return exits.map(rank).reduce((a, b) => (order.indexOf(b) > order.indexOf(a) ? b : a), 0);
}

function describe(name: string, e: VmExit): string | null {
  switch (e.kind) {
    case 'poweroff': return null;
    case 'reboot': return `vmio: ${name}: the guest asked for a reboot; vmio stopped it instead`;
    case 'quit': return `vmio: ${name}: quit`;
    case 'fail': return `vmio: ${name}: the guest failed: ${e.why}`;
    case 'panic': return `vmio: ${name}: the guest kernel panicked`;
    case 'timeout': return `vmio: ${name}: --timeout expired; the guest was stopped`;
    case 'error': return `vmio: ${name}: VMM error: ${e.error.stack ?? e.error.message}`;
  }
}

export async function runHost(o: HostRunOptions): Promise<number> {
  let metricsFile: MetricsFile | null = null;
  let built;
  try {
    const cfg = readHostConfig(o.file);
    if (o.console !== null && !cfg.vms.some((v) => v.name === o.console)) {
      throw new HostConfigError(`--console ${o.console}: ${o.file} has no VM of that name (it has ${cfg.vms.map((v) => v.name).join(', ')})`);
    }
    metricsFile = o.metricsFile === null ? null : MetricsFile.open(o.metricsFile);
    built = await buildHost(cfg, o.console, o.realtime);
  } catch (e) {
    metricsFile?.discard();
    if (e instanceof HostConfigError || e instanceof ConfigError || e instanceof CacheDirError) {
      process.stderr.write(`vmio run: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  await built.host.run(o.timeoutSeconds);
  for (const out of built.outputs) out.end();
  const exits = built.vms.map((v) => v.exit ?? { kind: 'error' as const, error: new Error('the VM never stopped') });
  built.vms.forEach((v, i) => { const m = describe(v.name, exits[i]!); if (m !== null) process.stderr.write(`${m}\n`); });
  const status = hostStatus(exits);
  if (metricsFile !== null) {
    const all: Record<string, unknown> = {};
    for (const v of built.vms) all[v.name] = v.metrics;
    try {
      // The Host's IOMMU (translations, IOTLB, fault log, domains) when the host file assigns VFs.
      const iommu = built.assignments.active ? { iommu: built.assignments.iommu } : {};
      metricsFile.write(JSON.stringify({ vms: all, ...iommu }, null, 2) + '\n');
    } catch (e) {
      process.stderr.write(`vmio run: writing the counters to ${metricsFile.path} failed: ${(e as Error).message}\n`);
      return status === 0 ? 3 : status;
    }
  }
  return status;
}
