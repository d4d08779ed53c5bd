// `vmio run` stops cleanly when asked from outside: SIGINT/SIGTERM/SIGHUP sent to it (status 128+n, counters
// written, terminal out of raw mode), and the same sent to the documented `npx vmio run`, whose shell keeps
// signals to itself. Every wait is for an event (a line printed, the pipes closing), never for a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VMIO_BIN } from '../../src/testing/run-vmio.js';
import { NODE_FLAGS } from '../../src/cli/node-flags.js';
import { makeElf } from '../../src/testing/elf-writer.js';
import { R, addi, bne, jal, lui, sb, sw } from '../../src/cpu/riscv/testing/asm.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'vmio-signals-'));
const READY = 'guest running';

/** A bare-metal guest that prints READY on the UART and then spins forever: only a stop request ends it. */
const spinner = join(tmp, 'spin.elf');
const words = [lui(R.t0, 0x10000)];
for (const c of `${READY}\n`) words.push(addi(R.t1, 0, c.charCodeAt(0)), sb(R.t1, R.t0, 0));
words.push(jal(0, 0));
writeFileSync(spinner, makeElf(0x8000_0000, words));

interface Watched { child: ChildProcess; out: () => string; err: () => string; closed: Promise<number | string> }

/** Starts `cmd`, collecting output; `closed` resolves when every holder of its stdout/stderr is gone. */
function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Watched {
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const closed = new Promise<number | string>((resolve) => child.on('close', (code, sig) => resolve(code ?? sig ?? 'unknown')));
  return { child, out: () => out, err: () => err, closed };
}

/** Resolves once `text` has appeared on the child's stdout. */
function printed(w: Watched, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => { if (w.out().includes(text)) { w.child.stdout!.off('data', check); resolve(); } };
    w.child.stdout!.on('data', check);
    w.child.on('close', () => reject(new Error(`exited before printing '${text}': ${w.out()}${w.err()}`)));
    check();
  });
}

/** Every process below `root`, from a walk of /proc. */
function descendants(root: number): { pid: number; cmd: string }[] {
  const parent = new Map<number, number>();
  const cmd = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      cmd.set(Number(name), readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' '));
    } catch { /* gone meanwhile */ }
  }
  const below = (pid: number): boolean => { for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === root) return true; return false; };
  return [...parent.keys()].filter(below).map((pid) => ({ pid, cmd: cmd.get(pid)! }));
}

/** The vmio process (node running bin/vmio.js run) below `root`. */
function vmioBelow(root: number): number {
  const found = descendants(root).filter((p) => /^\S*node (--\S+ )*\S*vmio(\.js)? run /.test(p.cmd));
  assert.equal(found.length, 1, `expected one vmio process below ${root}: ${JSON.stringify(descendants(root))}`);
  return found[0]!.pid;
}

/**
 * Waits for the pipes to close (every process holding them has exited). A run that never stops is killed after
 * a generous bound so the test fails instead of hanging; passing never depends on this time.
 */
async function closedOrKilled(w: Watched, pids: number[]): Promise<number | string> {
  let killed = false;
  const bound = setTimeout(() => { killed = true; for (const p of pids) reap(p); }, 120_000);
  const status = await w.closed;
  clearTimeout(bound);
  assert.equal(killed, false, `still running 120 s after the signal: ${w.err()}`);
  return status;
}

function gone(pid: number): boolean {
  try {
    return /^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); // a zombie is gone too
  } catch {
    return true;
  }
}

/** Kills `pid` if the test fails before it is gone, so a failing run never leaves a spinning VM behind. */
function reap(pid: number): void {
  if (!gone(pid)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  test(`${signal} to vmio run stops the VM: status ${status}, one line, counters written`, async () => {
    const metrics = join(tmp, `direct-${signal}.json`);
    const w = start(process.execPath, [VMIO_BIN, 'run', '--bios', 'none', '--kernel', spinner, '--metrics', metrics]);
    try {
      await printed(w, READY);
      w.child.kill(signal);
      assert.equal(await closedOrKilled(w, [w.child.pid!]), status, w.err());
      assert.equal(w.err().trim(), `vmio: stopped by ${signal}`);
      assert.ok((JSON.parse(readFileSync(metrics, 'utf8')) as { instructionsRetired: number }).instructionsRetired > 0);
    } finally {
      reap(w.child.pid!);
    }
  });
}

const npxMissing = spawnSync('npx', ['--version'], { stdio: 'ignore' }).status !== 0;

// What vmio sees of each: npm passes SIGTERM to its shell, which dies; npm keeps SIGINT's shell waiting; SIGHUP kills npm.
const NPX_SIGNS = {
  SIGTERM: /^vmio: npm's shell \(pid \d+\) that started vmio went away; stopped$/m,
  SIGINT: /^vmio: npm's shell \(pid \d+\) caught a signal meant for vmio; stopped as for SIGINT$/m,
  SIGHUP: /^vmio: npm \(pid \d+\), which started vmio, went away; stopped$/m,
};

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  test(`${signal} to the npx process of 'npx vmio run' stops vmio too`, { skip: npxMissing ? 'npx is not installed' : false }, async () => {
    const metrics = join(tmp, `npx-${signal}.json`);
    const w = start('npx', ['vmio', 'run', '--bios', 'none', '--kernel', spinner, '--metrics', metrics]);
    let vmio = 0;
    try {
      await printed(w, READY);
      vmio = vmioBelow(w.child.pid!);
      const cmd = descendants(w.child.pid!).find((p) => p.pid === vmio)!.cmd;
      assert.ok(cmd.includes(` ${NODE_FLAGS.join(' ')} `), `npx starts vmio with its Node flags (bin/vmio.js's first line): ${cmd}`);
      w.child.kill(signal);
      await closedOrKilled(w, [vmio, w.child.pid!]); // vmio holds the pipes: they close when it has exited
      assert.ok(gone(vmio), `vmio (pid ${vmio}) is still running after ${signal} to npx`);
      assert.match(w.err(), NPX_SIGNS[signal]);
      assert.ok((JSON.parse(readFileSync(metrics, 'utf8')) as { instructionsRetired: number }).instructionsRetired > 0,
        'a clean stop writes the counters');
    } finally {
      if (vmio) reap(vmio);
      reap(w.child.pid!);
    }
  });
}

test('npx vmio run of a guest that stops by itself is not stopped by the watch on npm\'s shell', { skip: npxMissing ? 'npx is not installed' : false }, async () => {
  // About 100 M instructions (a few seconds, many polls of the parent), then "done" and poweroff.
  const counter = join(tmp, 'count.elf');
  const code = [lui(R.t0, 0x5f5e), addi(R.t0, R.t0, 0x100), addi(R.t0, R.t0, -1), bne(R.t0, 0, -4), lui(R.t0, 0x10000)];
  for (const c of 'done\n') code.push(addi(R.t1, 0, c.charCodeAt(0)), sb(R.t1, R.t0, 0));
  code.push(lui(R.t0, 0x100), lui(R.t1, 0x5), addi(R.t1, R.t1, 0x555), sw(R.t1, R.t0, 0), jal(0, 0));
  writeFileSync(counter, makeElf(0x8000_0000, code));
  const w = start('npx', ['vmio', 'run', '--bios', 'none', '--kernel', counter]);
  try {
    assert.equal(await closedOrKilled(w, [w.child.pid!]), 0, w.err());
    assert.equal(w.out(), 'done\n');
  } finally {
    reap(w.child.pid!);
  }
});

const scriptMissing = !existsSync('/usr/bin/script');

test('SIGHUP to vmio on a terminal puts the terminal back in its normal mode', { skip: scriptMissing ? 'script (util-linux) is not installed' : false }, async () => {
  // script(1) gives vmio a pseudo-terminal, so vmio switches it to raw mode; stty then shows how vmio left it.
  const run = `${process.execPath} ${VMIO_BIN} run --bios none --kernel ${spinner}; echo status=$?; stty -a; echo end-of-stty`;
  const w = start('script', ['-qfec', run, '/dev/null']);
  let vmio = 0;
  try {
    await printed(w, READY);
    vmio = vmioBelow(w.child.pid!);
    process.kill(vmio, 'SIGHUP');
    await printed(w, 'end-of-stty'); // the shell inside script(1) runs stty once vmio has exited
    const after = w.out().slice(w.out().indexOf('status='));
    assert.match(after, /^status=129\b/);
    assert.match(after, /(^|[\s;])icanon\b/, `the terminal stayed in raw mode:\n${after}`);
    assert.match(after, /(^|[\s;])echo\b/, `the terminal stayed in raw mode:\n${after}`);
    w.child.stdin!.end();
    await w.closed;
  } finally {
    if (vmio) reap(vmio);
    reap(w.child.pid!);
  }
});
