// The xenstore tree (Xen's docs/misc/xenstore.txt): nodes with a value, a permission list and children, and the
// per-domain permission rule of xenstored's perm_for_conn — domain 0 (vmio) and a node's owner may do anything, a
// domain named in the list gets its entry, everyone else the owner entry's default. New nodes inherit their parent's
// permissions; a node an unprivileged domain creates is owned by it. Quotas bound what a guest can make. Paths here
// are absolute and already validated (xenstore.ts). Errors are the wire's error names.

import { XS_PERM_NONE, XS_PERM_READ, XS_PERM_WRITE, type XsError, type XsPerm } from './xs-wire.js';

/** Nodes an unprivileged domain may own, and the largest value it may store (xenstored's default quotas). */
export const QUOTA_NODES = 1000;
export const QUOTA_VALUE = 2048;

export class XsNode {
  constructor(public value: Uint8Array, public perms: readonly XsPerm[], readonly children: Set<string> = new Set()) {}
}

/** What a mutation changed, for watches: the node, its permissions (before a removal), and whether it was a removal. */
export interface XsChange {
  readonly path: string;
  readonly perms: readonly XsPerm[];
  readonly removed: boolean;
}

const EMPTY = new Uint8Array(0);

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** True when `path` is `base` or below it. */
export function isUnder(path: string, base: string): boolean {
  return path === base || base === '/' || (path.startsWith(base) && path.charCodeAt(base.length) === 0x2f);
}

export function permFor(perms: readonly XsPerm[], dom: number): number {
  if (dom === 0 || dom === perms[0]!.id) return XS_PERM_READ | XS_PERM_WRITE;
  for (let i = 1; i < perms.length; i++) if (perms[i]!.id === dom) return perms[i]!.perm;
  return perms[0]!.perm;
}

export class XsTree {
  /** Bumped by every mutation; `changed` maps paths to the generation that last changed them (while tracked). */
  gen = 0;
  changed: Map<string, number> | null = null;

  private constructor(private readonly nodes: Map<string, XsNode>, private readonly owned: Map<number, number>) {}

  static create(): XsTree {
    return new XsTree(new Map([['/', new XsNode(EMPTY, [{ id: 0, perm: XS_PERM_NONE }])]]), new Map([[0, 1]]));
  }

  /** A private copy for a transaction (copy-on-start; values and permission lists are never mutated in place). */
  clone(): XsTree {
    const nodes = new Map<string, XsNode>();
    for (const [p, n] of this.nodes) nodes.set(p, new XsNode(n.value, n.perms, new Set(n.children)));
    const t = new XsTree(nodes, new Map(this.owned));
    t.gen = this.gen;
    return t;
  }

  get size(): number { return this.nodes.size; }
  get(path: string): XsNode | undefined { return this.nodes.get(path); }

  private touch(path: string): void { this.changed?.set(path, this.gen); }

  private own(id: number, delta: number): void { this.owned.set(id, (this.owned.get(id) ?? 0) + delta); }

  read(path: string, dom: number): Uint8Array | XsError {
    const n = this.nodes.get(path);
    if (n === undefined) return 'ENOENT';
    return (permFor(n.perms, dom) & XS_PERM_READ) !== 0 ? n.value : 'EACCES';
  }

  directory(path: string, dom: number): string[] | XsError {
    const n = this.nodes.get(path);
    if (n === undefined) return 'ENOENT';
    return (permFor(n.perms, dom) & XS_PERM_READ) !== 0 ? [...n.children] : 'EACCES';
  }

  getPerms(path: string, dom: number): readonly XsPerm[] | XsError {
    const n = this.nodes.get(path);
    if (n === undefined) return 'ENOENT';
    return (permFor(n.perms, dom) & XS_PERM_READ) !== 0 ? n.perms : 'EACCES';
  }

  /** WRITE (value !== null) or MKDIR (value === null: an existing node is left alone). */
  write(path: string, dom: number, value: Uint8Array | null): XsChange | XsError | null {
    if (value !== null && value.length > QUOTA_VALUE && dom !== 0) return 'ENOSPC';
    const n = this.nodes.get(path);
    if (n !== undefined) {
      if ((permFor(n.perms, dom) & XS_PERM_WRITE) === 0) return 'EACCES';
      if (value === null) return null;
      this.gen++;
      n.value = value.slice();
      this.touch(path);
      return { path, perms: n.perms, removed: false };
    }
    // Create the node and any missing ancestors, checked against the deepest existing one.
    const missing: string[] = [];
    let p = path;
    while (!this.nodes.has(p)) { missing.push(p); p = parentOf(p); }
    const anchor = this.nodes.get(p)!;
    if ((permFor(anchor.perms, dom) & XS_PERM_WRITE) === 0) return 'EACCES';
    const perms = dom === 0 ? anchor.perms : [{ id: dom, perm: anchor.perms[0]!.perm }, ...anchor.perms.slice(1)];
    const owner = perms[0]!.id;
    if (owner !== 0 && (this.owned.get(owner) ?? 0) + missing.length > QUOTA_NODES) return 'ENOSPC';
    this.gen++;
    for (let i = missing.length - 1; i >= 0; i--) {
      const m = missing[i]!;
      const parent = parentOf(m);
      this.nodes.get(parent)!.children.add(m.slice(parent === '/' ? 1 : parent.length + 1));
      this.nodes.set(m, new XsNode(i === 0 && value !== null ? value.slice() : EMPTY, perms));
      this.own(owner, 1);
      this.touch(m);
      this.touch(parent);
    }
    return { path, perms, removed: false };
  }

  /** RM: the node and everything below it. Removing a missing node whose parent exists is not an error. */
  rm(path: string, dom: number): XsChange | XsError | null {
    if (path === '/') return 'EINVAL';
    const n = this.nodes.get(path);
    if (n === undefined) return this.nodes.has(parentOf(path)) ? null : 'ENOENT';
    if ((permFor(n.perms, dom) & XS_PERM_WRITE) === 0) return 'EACCES';
    this.gen++;
    const parent = parentOf(path);
    this.nodes.get(parent)!.children.delete(path.slice(parent === '/' ? 1 : parent.length + 1));
    this.touch(parent);
    const stack = [path];
    for (let p = stack.pop(); p !== undefined; p = stack.pop()) {
      const node = this.nodes.get(p)!;
      for (const c of node.children) stack.push(`${p}/${c}`);
      this.nodes.delete(p);
      this.own(node.perms[0]!.id, -1);
      this.touch(p);
    }
    return { path, perms: n.perms, removed: true };
  }

  /** SET_PERMS: the owner (or vmio) only; an unprivileged owner cannot give the node away. */
  setPerms(path: string, dom: number, perms: readonly XsPerm[]): XsChange | XsError {
    const n = this.nodes.get(path);
    if (n === undefined) return 'ENOENT';
    if (dom !== 0 && (dom !== n.perms[0]!.id || perms[0]!.id !== dom)) return 'EACCES';
    const newOwner = perms[0]!.id;
    if (newOwner !== n.perms[0]!.id && newOwner !== 0 && (this.owned.get(newOwner) ?? 0) + 1 > QUOTA_NODES) return 'ENOSPC';
    this.gen++;
    this.own(n.perms[0]!.id, -1);
    this.own(newOwner, 1);
    n.perms = perms.slice();
    this.touch(path);
    return { path, perms: n.perms, removed: false };
  }
}
