// An exclusive lock on a disk image, so two VMs cannot open it read-write at once. Node has no flock(2), so the
// lock is a file created beside the image with O_EXCL ('wx'): "<image>.lock", holding the owner's pid, host name
// and a random token. An existing lock whose pid is gone on this host is stale and is taken over; one from
// another host, or from a live process, refuses the open. The take-over renames the stale file aside and checks
// it is the one it judged stale, so two openers racing on the same stale lock cannot both win. A lock survives
// SIGKILL (the next open finds its pid gone); a pid reused by an unrelated process keeps it until removed by hand.

import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

export class ImageLockedError extends Error {}

export interface LockOwner { pid: number; host: string; token: string }

export function lockPath(image: string): string { return `${image}.lock`; }

function parse(text: string): LockOwner | null {
  const [pid, host, token] = text.split('\n');
  const n = Number(pid);
  return Number.isSafeInteger(n) && n > 0 && host !== undefined && token !== undefined ? { pid: n, host, token } : null;
}

/** Whether process `pid` exists on this host (EPERM: it exists but is not ours). */
export function processAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

function readOwner(path: string): { text: string; owner: LockOwner | null } | null {
  try { const text = readFileSync(path, 'utf8'); return { text, owner: parse(text) }; } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Why the lock at `path` is held (a message a person can act on), or null when it is stale or absent. */
export function liveOwner(image: string, alive: (pid: number) => boolean = processAlive): string | null {
  const path = lockPath(image);
  const cur = readOwner(path);
  if (cur === null) return null;
  const o = cur.owner;
  if (o === null) return `${image} is locked by ${path}, which vmio cannot read; if no VM uses the image, remove that file`;
  if (o.host !== hostname()) return `${image} is locked by process ${o.pid} on host ${o.host} (${path}); stop that VM, or remove the lock file if it is stale`;
  if (alive(o.pid)) return `${image} is in use by process ${o.pid} (${path}); stop that VM first, or remove the lock file if that process is not a VM`;
  return null;
}

const held = new Set<string>();
let exitHook = false;

export class ImageLock {
  private released = false;

  private constructor(readonly image: string, readonly path: string, private readonly content: string) {}

  /** Takes the lock on `image` or throws ImageLockedError saying who holds it. */
  static acquire(image: string, alive: (pid: number) => boolean = processAlive): ImageLock {
    const path = lockPath(image);
    const content = `${process.pid}\n${hostname()}\n${randomBytes(8).toString('hex')}\n`;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o644);
        try { writeSync(fd, content); } finally { closeSync(fd); }
        if (!exitHook) { exitHook = true; process.on('exit', () => { for (const p of held) try { unlinkSync(p); } catch { /* already gone */ } }); }
        held.add(path);
        return new ImageLock(image, path, content);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const why = liveOwner(image, alive);
      if (why !== null) throw new ImageLockedError(why);
      ImageLock.removeStale(path);
    }
    throw new ImageLockedError(`${image}: could not take ${path} (other processes keep taking it); try again`);
  }

  /** Moves a stale lock aside, making sure the file moved is the one judged stale (restored otherwise). */
  private static removeStale(path: string): void {
    const seen = readOwner(path);
    if (seen === null) return;
    const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try { renameSync(path, aside); } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; throw e; }
    const moved = readOwner(aside);
    if (moved !== null && moved.text !== seen.text) {
      // Someone took the lock between our read and the rename: put theirs back (link fails if a third one exists).
      try { linkSync(aside, path); } catch { /* the newest holder keeps its own file */ }
    }
    try { unlinkSync(aside); } catch { /* already gone */ }
  }

  /** Removes the lock file if it is still ours. */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this.path);
    const cur = readOwner(this.path);
    if (cur !== null && cur.text === this.content) unlinkSync(this.path);
  }
}
