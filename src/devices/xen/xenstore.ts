// A small xenstored (Xen's docs/misc/xenstore.txt; xs_wire.h): requests arrive already framed (xs-ring.ts does the
// ring), are parsed into checked arguments, run against the tree (xs-tree.ts) with the requesting domain's
// permissions, and answered through a sink; watches fire after the reply (xs-watch.ts). Transactions work on a
// private copy of the tree taken at TRANSACTION_START, log their mutations, and at commit replay them unless a
// node they touched changed since they started, which fails the commit with EAGAIN. vmio itself (domain 0) uses
// the same tree through the methods at the top, with full rights.

import { XenstoreCounters } from './counters.js';
import { parentOf, XsTree, type XsChange } from './xs-tree.js';
import { QUOTA_WATCHES, XsWatches, type WatchSink } from './xs-watch.js';
import {
  XENSTORE_ABS_PATH_MAX, XENSTORE_PAYLOAD_MAX, XENSTORE_REL_PATH_MAX, XS_DIRECTORY, XS_ERROR, XS_GET_DOMAIN_PATH,
  XS_GET_PERMS, XS_MKDIR, XS_NAMES, XS_PERM_NONE, XS_PERM_READ, XS_READ, XS_RESET_WATCHES, XS_RM, XS_SET_PERMS,
  XS_TRANSACTION_END, XS_TRANSACTION_START, XS_UNWATCH, XS_WATCH, XS_WRITE, formatPerm, parsePerm, type XsError, type XsPerm,
} from './xs-wire.js';
import { bytesOf, stringsOf, textOf } from './xs-text.js';

/** Where a domain's replies and watch events go (its ring connection, or a test). */
export interface XsSink extends WatchSink {
  reply(type: number, reqId: number, txId: number, payload: Uint8Array): void;
}

interface LoggedOp { readonly type: number; readonly path: string; readonly value: Uint8Array | null; readonly perms: readonly XsPerm[] }

interface Transaction {
  readonly id: number;
  readonly dom: number;
  readonly tree: XsTree;
  readonly startGen: number;
  readonly log: LoggedOp[];
  readonly accessed: Set<string>;
}

/** Open transactions a domain may hold. */
export const QUOTA_TRANSACTIONS = 10;
/** Paths remembered for conflict detection before every open transaction is failed instead. */
const MAX_TRACKED = 65536;
const PATH_RE = /^\/(?:[A-Za-z0-9_@-]+(?:\/[A-Za-z0-9_@-]+)*)?$/;
const SPECIAL_RE = /^@[A-Za-z0-9_-]+$/;
const OK = bytesOf('OK\0');

export class Xenstore {
  readonly live = XsTree.create();
  readonly watches: XsWatches;
  private readonly txs = new Map<number, Transaction>();
  private nextTx = 1;
  /** Transactions that started before this generation fail at commit (tracking overflowed). */
  private invalidBefore = 0;

  constructor(readonly counters = new XenstoreCounters()) {
    this.watches = new XsWatches(counters);
  }

  // vmio's own access (domain 0). Paths are absolute; an invalid one is a vmio bug, so it throws.

  read(path: string): string | null {
    const v = this.live.read(this.own(path), 0);
    return typeof v === 'string' ? null : textOf(v);
  }
  directory(path: string): string[] {
    const v = this.live.directory(this.own(path), 0);
    return typeof v === 'string' ? [] : v;
  }
  write(path: string, value: string): void { this.apply(XS_WRITE, 0, this.own(path), bytesOf(value), []); this.watches.drain(); }
  mkdir(path: string): void { this.apply(XS_MKDIR, 0, this.own(path), null, []); this.watches.drain(); }
  rm(path: string): void { this.apply(XS_RM, 0, this.own(path), null, []); this.watches.drain(); }
  setPerms(path: string, perms: readonly XsPerm[]): void { this.apply(XS_SET_PERMS, 0, this.own(path), null, perms); this.watches.drain(); }
  /** A vmio watcher: `fn(path)` runs after each change at or below `path`. Returns its removal. */
  watch(path: string, fn: (path: string) => void): () => void { return this.watches.addVmio(this.own(path), fn); }

  private own(path: string): string {
    if (!PATH_RE.test(path)) throw new RangeError(`xenstore path '${path}' is not absolute and valid`);
    return path;
  }

  /** What the toolstack creates for a new domain: its home, readable by it, and the directories it owns. */
  introduceDomain(dom: number): void {
    const home = `/local/domain/${dom}`;
    this.write(home, '');
    this.setPerms(home, [{ id: 0, perm: XS_PERM_NONE }, { id: dom, perm: XS_PERM_READ }]);
    this.write(`${home}/domid`, String(dom));
    this.write(`${home}/name`, `vmio-dom${dom}`);
    for (const d of ['device', 'control', 'data', 'drivers', 'feature', 'attr', 'error']) {
      this.write(`${home}/${d}`, '');
      this.setPerms(`${home}/${d}`, [{ id: dom, perm: XS_PERM_NONE }]);
    }
  }

  /** The domain is gone: its watches and transactions go with it. */
  releaseDomain(dom: number): void {
    this.watches.removeDomain(dom);
    for (const t of [...this.txs.values()]) if (t.dom === dom) this.endTx(t);
  }

  // The wire.

  // guest-controlled: type, txId and every byte of the payload.
  /** Handles one request from domain `dom` and answers it through `sink`. */
  request(dom: number, sink: XsSink, type: number, reqId: number, txId: number, payload: Uint8Array): void {
    this.counters.countRequest(XS_NAMES[type] ?? 'unknown');
    const r = this.handle(dom, sink, type, txId, payload);
    if (typeof r === 'string') {
      this.counters.countError(r);
      sink.reply(XS_ERROR, reqId, txId, bytesOf(`${r}\0`));
    } else if (r.reply.length > XENSTORE_PAYLOAD_MAX) {
      this.counters.countError('E2BIG');
      sink.reply(XS_ERROR, reqId, txId, bytesOf('E2BIG\0'));
    } else {
      sink.reply(type, reqId, txId, r.reply);
      r.then?.();
    }
    this.watches.drain();
  }

  private handle(dom: number, sink: XsSink, type: number, txId: number, payload: Uint8Array): { reply: Uint8Array; then?: () => void } | XsError {
    const args = stringsOf(payload);
    let tx: Transaction | null = null;
    if (txId !== 0 && type !== XS_WATCH && type !== XS_UNWATCH) {
      tx = this.txs.get(txId) ?? null;
      if (tx === null || tx.dom !== dom) return 'ENOENT';
    }
    const tree = tx?.tree ?? this.live;
    switch (type) {
      case XS_READ: case XS_DIRECTORY: case XS_GET_PERMS: {
        const path = this.oneArg(dom, args);
        if (path === null) return 'EINVAL';
        tx?.accessed.add(path);
        if (type === XS_READ) { const v = tree.read(path, dom); return typeof v === 'string' ? v : { reply: v }; }
        const list = type === XS_DIRECTORY ? tree.directory(path, dom) : tree.getPerms(path, dom);
        if (typeof list === 'string') return list;
        return { reply: bytesOf(list.map((x) => `${typeof x === 'string' ? x : formatPerm(x)}\0`).join('')) };
      }
      case XS_WRITE: case XS_MKDIR: case XS_RM: {
        // WRITE is "path\0value" (the value runs to the end); MKDIR and RM take exactly one string.
        const path = type !== XS_WRITE ? this.oneArg(dom, args)
          : args.firstLen < payload.length ? this.resolve(dom, args.strings[0]!) : null;
        if (path === null) return 'EINVAL';
        const value = type === XS_WRITE ? payload.subarray(args.firstLen + 1) : null;
        return this.mutate(tx, type, dom, path, value, []);
      }
      case XS_SET_PERMS: {
        if (!args.terminated || args.strings.length < 2) return 'EINVAL';
        const path = this.resolve(dom, args.strings[0]!);
        const perms = args.strings.slice(1).map(parsePerm);
        if (path === null || perms.some((p) => p === null)) return 'EINVAL';
        return this.mutate(tx, type, dom, path, null, perms as XsPerm[]);
      }
      case XS_WATCH: case XS_UNWATCH: {
        if (!args.terminated || args.strings.length !== 2) return 'EINVAL';
        const given = args.strings[0]!;
        const token = args.strings[1]!;
        const path = SPECIAL_RE.test(given) ? given : this.resolve(dom, given);
        if (path === null) return 'EINVAL';
        if (type === XS_UNWATCH) return this.watches.remove(dom, given, token) ? { reply: OK } : 'ENOENT';
        if (this.watches.count(dom) >= QUOTA_WATCHES) return 'E2BIG';
        if (!this.watches.add(dom, path, given, token, sink)) return 'EEXIST';
        // Xen's xenstored fires a new watch once, at once: clients rely on it to read the current state.
        return { reply: OK, then: () => this.watches.send({ dom, given, path, token, sink }, path) };
      }
      case XS_TRANSACTION_START: {
        if (txId !== 0) return 'EBUSY';
        if ([...this.txs.values()].filter((t) => t.dom === dom).length >= QUOTA_TRANSACTIONS) return 'ENOSPC';
        const t: Transaction = { id: this.nextTx++, dom, tree: this.live.clone(), startGen: this.live.gen, log: [], accessed: new Set() };
        this.txs.set(t.id, t);
        if (this.live.changed === null) this.live.changed = new Map();
        return { reply: bytesOf(`${t.id}\0`) };
      }
      case XS_TRANSACTION_END: {
        if (tx === null) return 'ENOENT';
        const a = args.terminated && args.strings.length === 1 ? args.strings[0] : undefined;
        if (a !== 'T' && a !== 'F') return 'EINVAL';
        return this.commit(tx, a === 'T');
      }
      case XS_GET_DOMAIN_PATH: {
        const a = args.terminated && args.strings.length === 1 ? args.strings[0]! : '';
        if (!/^\d{1,5}$/.test(a)) return 'EINVAL';
        return { reply: bytesOf(`/local/domain/${Number(a)}\0`) };
      }
      case XS_RESET_WATCHES:
        this.watches.removeDomain(dom);
        return { reply: OK };
      default:
        // INTRODUCE, RELEASE, SET_TARGET, CONTROL...: the toolstack's (vmio's) business; DIRECTORY_PART: not offered.
        return type < XS_NAMES.length && type !== XS_ERROR ? (dom === 0 ? 'ENOSYS' : 'EACCES') : 'ENOSYS';
    }
  }

  /** A request's only argument, a NUL-terminated path spanning the payload, resolved; null when malformed. */
  private oneArg(dom: number, args: ReturnType<typeof stringsOf>): string | null {
    return args.terminated && args.strings.length === 1 ? this.resolve(dom, args.strings[0]!) : null;
  }

  /** Absolute form of a guest's path (relative ones are under /local/domain/<dom>); null when invalid. */
  resolve(dom: number, raw: string): string | null {
    let abs: string;
    if (raw.startsWith('/')) {
      if (raw.length > XENSTORE_ABS_PATH_MAX) return null;
      abs = raw;
    } else {
      if (raw.length === 0 || raw.length > XENSTORE_REL_PATH_MAX) return null;
      abs = `/local/domain/${dom}/${raw}`;
    }
    return PATH_RE.test(abs) ? abs : null;
  }

  private mutate(tx: Transaction | null, type: number, dom: number, path: string, value: Uint8Array | null, perms: readonly XsPerm[]) {
    if (tx === null) {
      const r = this.apply(type, dom, path, value, perms);
      return typeof r === 'string' ? r : { reply: OK };
    }
    // Remember what the transaction depends on: the node, and (when it creates or removes nodes) the nodes whose
    // children change: its missing ancestors and the deepest existing one.
    tx.accessed.add(path);
    if (type === XS_RM || tx.tree.get(path) === undefined) {
      for (let p = parentOf(path); ; p = parentOf(p)) {
        tx.accessed.add(p);
        if (p === '/' || tx.tree.get(p) !== undefined) break;
      }
    }
    const r = this.applyTo(tx.tree, type, dom, path, value, perms);
    if (typeof r === 'string') return r;
    tx.log.push({ type, path, value: value === null ? null : value.slice(), perms });
    return { reply: OK };
  }

  private applyTo(tree: XsTree, type: number, dom: number, path: string, value: Uint8Array | null, perms: readonly XsPerm[]): XsChange | XsError | null {
    switch (type) {
      case XS_WRITE: return tree.write(path, dom, value ?? new Uint8Array(0));
      case XS_MKDIR: return tree.write(path, dom, null);
      case XS_RM: return tree.rm(path, dom);
      default: return tree.setPerms(path, dom, perms);
    }
  }

  /** A mutation of the live tree, firing watches. */
  private apply(type: number, dom: number, path: string, value: Uint8Array | null, perms: readonly XsPerm[]): XsError | null {
    const r = this.applyTo(this.live, type, dom, path, value, perms);
    if (typeof r === 'string') return r;
    if (r !== null) this.watches.fire(r);
    const tracked = this.live.changed;
    if (tracked !== null && tracked.size > MAX_TRACKED) { this.invalidBefore = this.live.gen; tracked.clear(); }
    return null;
  }

  private commit(tx: Transaction, commit: boolean): { reply: Uint8Array } | XsError {
    const changed = this.live.changed;
    const conflict = commit && (tx.startGen < this.invalidBefore || [...tx.accessed].some((p) => (changed?.get(p) ?? -1) > tx.startGen));
    this.endTx(tx);
    if (!commit) return { reply: OK };
    if (conflict) { this.counters.conflicts++; return 'EAGAIN'; }
    for (const op of tx.log) this.apply(op.type, tx.dom, op.path, op.value, op.perms);
    this.counters.commits++;
    return { reply: OK };
  }

  private endTx(tx: Transaction): void {
    this.txs.delete(tx.id);
    if (this.txs.size === 0) this.live.changed = null;
  }
}
