// Build-step runner for `vmio image build`: timed step lines, "still building" ticks, child processes logged to a file.

import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';

export interface Progress {
  /** One line for the user (stderr), e.g. "[image] kernel: start". */
  line(text: string): void;
}

export const quietProgress: Progress = { line() {} };
export const stderrProgress: Progress = { line(text) { process.stderr.write(`[vmio image] ${text}\n`); } };

/** Seconds each finished step took, in order, for the build summary. */
export type StepTimes = Array<{ name: string; seconds: number }>;

/**
 * Runs `fn` as a named step: prints a start line, a "still building" line every `tickSeconds`, and an end
 * line with the elapsed seconds (or a failure line), and records the time in `times`.
 */
export async function step<T>(progress: Progress, times: StepTimes, name: string, fn: () => Promise<T>, tickSeconds = 30): Promise<T> {
  const t0 = Date.now();
  progress.line(`${name}: start`);
  const tick = setInterval(() => progress.line(`${name}: still building (${Math.round((Date.now() - t0) / 1000)} s)`), tickSeconds * 1000);
  tick.unref();
  try {
    const out = await fn();
    const seconds = (Date.now() - t0) / 1000;
    times.push({ name, seconds });
    progress.line(`${name}: done in ${seconds.toFixed(1)} s`);
    return out;
  } catch (e) {
    progress.line(`${name}: FAILED after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    throw e;
  } finally {
    clearInterval(tick);
  }
}

export class CommandError extends Error {}

export interface RunOptions {
  cwd: string;
  /** Build log the command's output is appended to. */
  log: string;
  env?: NodeJS.ProcessEnv;
  /** Text written to the command's stdin (then closed); stdin is /dev/null otherwise. */
  input?: string;
}

/** Runs a command, appending its output to the log; rejects naming the command and the log's tail on failure. */
export function run(cmd: string, args: string[], opts: RunOptions): Promise<void> {
  appendFileSync(opts.log, `\n$ (cd ${opts.cwd} && ${[cmd, ...args].join(' ')})\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const write = (b: Buffer): void => appendFileSync(opts.log, b);
    child.stdout?.on('data', write);
    child.stderr?.on('data', write);
    if (opts.input !== undefined) {
      child.stdin?.on('error', () => { /* the command may exit before reading all of it */ });
      child.stdin?.end(opts.input);
    }
    child.on('error', (e) => reject(new CommandError(`could not start '${cmd}': ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) { resolve(); return; }
      reject(new CommandError(`'${[cmd, ...args].join(' ')}' in ${opts.cwd} failed (${signal ?? `exit ${code}`}).\n` +
        `Last lines of the build log ${opts.log}:\n${tail(opts.log, 25)}`));
    });
  });
}

/** Runs a command and returns its stdout (for quick queries: dpkg-query, apt-cache). */
export function capture(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('error', (e) => resolve({ code: 127, stdout, stderr: stderr + e.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '(no log)';
  }
}
