// Requests from outside to stop a running `vmio run`: SIGINT, SIGTERM and SIGHUP; and, when npm started vmio
// (npx vmio, npm exec, npm run), signs from npm's wrapper shell. npm runs the command as `sh -c "'vmio' run ..."`
// and signals only that shell: dash dies of SIGTERM (orphaning vmio) and catches SIGINT to wait for vmio, which
// never hears of it. So vmio watches its parent: a new parent means the shell died; a shell that woke while
// vmio ran was woken by a signal (vmio is its only child, and a waiting shell wakes for nothing else); a shell
// with a new parent lost npm.

import { readFileSync } from 'node:fs';
import { constants } from 'node:os';

export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
export interface StopRequest { signal: StopSignal; why: string }

const SIGNALS: StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** How often the parent is looked at, in ms. */
const POLL_MS = 200;

/** The exit status of a process stopped by `signal`, as a shell reports it (128 + the signal's number). */
export function signalStatus(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

/** The parent's voluntary context switches (it sleeps in wait() and wakes only for a child or a signal), or null. */
function wakeups(pid: number): number | null {
  try {
    const m = /^voluntary_ctxt_switches:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** The parent of `pid` (from /proc/PID/stat, whose comm field may hold spaces and parentheses), or null. */
function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : null;
  } catch {
    return null;
  }
}

/** True when `pid` is a shell running `-c` (npm's wrapper), so its wake-ups are worth watching. */
function isWrapperShell(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv[1] === '-c' && /(^|\/)(sh|dash|bash|ash|ksh|zsh)$/.test(argv[0] ?? '');
  } catch {
    return false;
  }
}

/**
 * Calls `onStop` once for the first request; a second signal calls `onForce` (the person insists).
 * Returns a function that removes the handlers.
 */
export function watchStopRequests(onStop: (r: StopRequest) => void, onForce: (r: StopRequest) => void): () => void {
  let requested = false;
  const request = (r: StopRequest) => {
    if (requested) { onForce(r); return; }
    requested = true;
    onStop(r);
  };
  const handlers = SIGNALS.map((signal) => {
    const h = () => request({ signal, why: `vmio: stopped by ${signal}` });
    process.on(signal, h);
    return [signal, h] as const;
  });

  let timer: NodeJS.Timeout | null = null;
  let resync: (() => void) | null = null;
  if (process.env['npm_lifecycle_event'] !== undefined) {
    const parent = process.ppid;
    const shell = isWrapperShell(parent);
    let seen = shell ? wakeups(parent) : null;
    const npm = shell ? parentOf(parent) : null; // killed with SIGHUP or SIGKILL, npm leaves its shell waiting
    let last = Date.now();
    // After Ctrl-Z and fg the shell woke for vmio's stop and continue: start counting again.
    resync = () => { seen = shell ? wakeups(parent) : null; last = Date.now(); };
    process.on('SIGCONT', resync);
    const who = shell ? "npm's shell" : 'the process';
    // The watch asks once; only a signal after that forces the exit.
    const ask = (r: StopRequest) => { if (timer) clearInterval(timer); request(r); };
    timer = setInterval(() => {
      if (process.ppid !== parent) {
        ask({ signal: 'SIGHUP', why: `vmio: ${who} (pid ${parent}) that started vmio went away; stopped` });
        return;
      }
      if (npm !== null && parentOf(parent) !== npm) {
        ask({ signal: 'SIGHUP', why: `vmio: npm (pid ${npm}), which started vmio, went away; stopped` });
        return;
      }
      const now = Date.now();
      const late = now - last > 5 * POLL_MS; // vmio itself was stopped (or starved): the count may include that
      last = now;
      if (seen === null) return;
      const w = wakeups(parent);
      if (w !== null && w > seen && !late) {
        ask({ signal: 'SIGINT', why: `vmio: npm's shell (pid ${parent}) caught a signal meant for vmio; stopped as for SIGINT` });
        return;
      }
      seen = w;
    }, POLL_MS);
    timer.unref();
  }

  return () => {
    for (const [signal, h] of handlers) process.off(signal, h);
    if (resync) process.off('SIGCONT', resync);
    if (timer) clearInterval(timer);
  };
}
