// `vmio run`: boot a guest with the console attached; exit status says how the guest stopped.

import { parseArgs } from 'node:util';
import { parseRunOptions, RUN_HELP, UsageError } from './run-options.js';
import { runHost } from './run-host.js';
import { buildVm, ConfigError } from '../host/build-vm.js';
import { HostConsole } from '../host/console.js';
import { MetricsFile } from './metrics-file.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Profiler, loadSystemMap } from '../cpu/riscv/jit/profile.js';
import { CacheDirError } from '../image/cache-dir.js';
import { signalStatus, watchStopRequests, type StopRequest } from './stop-requests.js';
import type { VmExit } from '../host/vm.js';

export const EXIT_OK = 0;
export const EXIT_GUEST_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_VMM_ERROR = 3;
export const EXIT_TIMEOUT = 124;

function describe(exit: VmExit): { status: number; message: string | null } {
  switch (exit.kind) {
    case 'poweroff': return { status: EXIT_OK, message: null };
    case 'reboot': return { status: EXIT_OK, message: 'vmio: the guest asked for a reboot; vmio stops the VM instead' };
    case 'quit': return { status: EXIT_OK, message: 'vmio: quit (Ctrl-A x)' };
    case 'fail': return { status: EXIT_GUEST_FAILED, message: `vmio: the guest failed: ${exit.why}` };
    case 'panic': return { status: EXIT_GUEST_FAILED, message: 'vmio: the guest kernel panicked (see the console output above)' };
    case 'timeout': return { status: EXIT_TIMEOUT, message: 'vmio: --timeout expired; the guest was stopped' };
    case 'error': return { status: EXIT_VMM_ERROR, message: `vmio: VMM error: ${exit.error.stack ?? exit.error.message}` };
  }
}

/** `vmio run --config FILE [--console NAME] [--timeout S] [--metrics FILE] [--realtime]`. */
async function runHostCommand(args: string[]): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args, strict: true, allowPositionals: false,
      options: { config: { type: 'string' }, console: { type: 'string' }, timeout: { type: 'string' }, metrics: { type: 'string' }, realtime: { type: 'boolean' } },
    }).values;
  } catch (e) {
    const first = (e as Error).message.split('\n')[0]!.replace(/\.$/, '');
    process.stderr.write(`vmio run: ${first}. With --config, a VM's options go in the host file; the command line takes only --console, --timeout, --metrics and --realtime.\n`);
    return EXIT_USAGE;
  }
  let timeoutSeconds: number | null = null;
  if (v.timeout !== undefined) {
    timeoutSeconds = Number(v.timeout);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) { process.stderr.write(`vmio run: --timeout must be a positive number of seconds, got '${v.timeout}'\n`); return EXIT_USAGE; }
  }
  return runHost({ file: v.config!, console: v.console ?? null, timeoutSeconds, metricsFile: v.metrics ?? null, realtime: v.realtime ?? false });
}

export async function runCommand(args: string[]): Promise<number> {
  if (args.includes('--config')) return runHostCommand(args);
  let config;
  let metricsFile: MetricsFile | null;
  let profileFile: MetricsFile | null = null;
  try {
    config = parseRunOptions(args);
    if (config === 'help') { process.stdout.write(RUN_HELP); return EXIT_OK; }
    metricsFile = config.metricsFile === null ? null : MetricsFile.open(config.metricsFile);
    profileFile = config.profileFile === null ? null : MetricsFile.open(config.profileFile, '--profile', 'profile.txt');
  } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`vmio run: ${e.message}\n`); return EXIT_USAGE; }
    throw e;
  }

  const console = new HostConsole(process.stdin, process.stdout);
  let vm;
  try {
    vm = await buildVm(config, console);
  } catch (e) {
    metricsFile?.discard();
    profileFile?.discard();
    if (e instanceof ConfigError || e instanceof CacheDirError) { process.stderr.write(`vmio run: ${e.message}\n`); return EXIT_USAGE; }
    throw e;
  }
  const profiler = profileFile === null ? null : new Profiler(vm.harts);
  let stopRequest: StopRequest | null = null;
  const unwatch = watchStopRequests(
    (r) => { stopRequest = r; vm.stop({ kind: 'quit' }); },
    (r) => {
      // A second request while the VM stops: leave now, with the terminal back in its normal mode.
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
      process.stderr.write(`\n${r.why} (again: vmio exits without waiting)\n`);
      process.exit(signalStatus(r.signal));
    });
  let exit;
  try {
    exit = await vm.run(config.timeoutSeconds);
  } finally {
    unwatch();
  }
  const stopped = stopRequest as StopRequest | null; // set by the handler during run()
  const { status, message } = exit.kind === 'quit' && stopped !== null
    ? { status: signalStatus(stopped.signal), message: stopped.why }
    : describe(exit);
  // A closed stdout (`vmio run | head`) ends the run quietly.
  if (message !== null && !console.outputClosed) process.stderr.write(`\n${message}\n`);
  if (profiler !== null && profileFile !== null) {
    try {
      profileFile.write(profiler.report(await systemMap(config.profileMap, config.kernel)));
    } catch (e) {
      process.stderr.write(`vmio run: writing the profile to ${profileFile.path} failed: ${(e as Error).message}\n`);
    }
  }
  if (metricsFile !== null) {
    try {
      metricsFile.write(JSON.stringify(vm.metrics, null, 2) + '\n');
    } catch (e) {
      // Rare once the file opened (a full disk, an I/O error). The guest's own failure status is kept; a guest
      // that succeeded becomes a VMM error, so a script reading the file never mistakes it for complete.
      process.stderr.write(`vmio run: the run ended (exit status ${status}) but writing the counters to ${metricsFile.path} failed: ` +
        `${(e as Error).message}\n`);
      return status === EXIT_OK ? EXIT_VMM_ERROR : status;
    }
  }
  return status;
}

/** The System.map for --profile: the one given, else one beside the kernel (the reference guest's, or --kernel's). */
async function systemMap(given: string | null, kernel: string | null): Promise<ReturnType<typeof loadSystemMap>['map']> {
  let path = given;
  if (path === null) {
    const { ensureImage } = await import('../image/paths.js');
    const k = kernel ?? (await ensureImage({ quiet: true })).kernel;
    const beside = join(dirname(k), 'System.map');
    if (!existsSync(beside)) return null;
    path = beside;
  }
  const { map, error } = loadSystemMap(path);
  if (error !== null) process.stderr.write(`vmio run: --profile: ${error}; the profile names no symbols\n`);
  return map;
}
