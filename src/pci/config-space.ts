// A function's 4 KiB configuration space (PCI 3.0 §6.1, PCIe 4.0 §7.2.2): bytes with a write mask and an RW1C mask
// per byte, so read-only fields ignore writes, reserved bytes read 0, status bits clear by writing 1, and a BAR
// answers a write of all-ones with its size — all without per-register code. Registers with side effects (command,
// BARs, MSI/MSI-X control) register watchers that run after a guest write touched them. Capabilities are linked
// into the standard list (from 0x40) and the extended list (from 0x100) by `CapabilityList`.

import {
  PCI_CAP_LIST_NEXT, PCI_CAPABILITY_LIST, PCI_CFG_SPACE_EXP_SIZE, PCI_CFG_SPACE_SIZE, PCI_EXT_CAP_START,
  PCI_STATUS, PCI_STATUS_CAP_LIST, PCI_STD_HEADER_SIZEOF,
} from './regs.js';

export type ConfigWidth = 1 | 2 | 4;

interface Watch {
  readonly start: number;
  readonly end: number;
  readonly fn: () => void;
}

export class ConfigSpace {
  readonly size = PCI_CFG_SPACE_EXP_SIZE;
  private readonly bytes = new Uint8Array(PCI_CFG_SPACE_EXP_SIZE);
  private readonly wmask = new Uint8Array(PCI_CFG_SPACE_EXP_SIZE);
  private readonly w1cmask = new Uint8Array(PCI_CFG_SPACE_EXP_SIZE);
  private readonly watches: Watch[] = [];
  private powerOn: Uint8Array | null = null;
  /** The bytes a guest write is replacing, for watchers that compare (valid while they run). */
  private readonly before = new Uint8Array(4);
  private beforeOff = -1;
  private beforeLen = 0;

  private check(off: number, len: number): void {
    if (!Number.isInteger(off) || off < 0 || off + len > this.size) throw new RangeError(`config offset 0x${off.toString(16)}+${len} is outside the 4 KiB configuration space`);
  }

  // The VMM's side: values as the device presents them, regardless of the write masks.
  get8(off: number): number { this.check(off, 1); return this.bytes[off]!; }
  get16(off: number): number { this.check(off, 2); return this.bytes[off]! | (this.bytes[off + 1]! << 8); }
  get32(off: number): number { this.check(off, 4); return (this.get16(off) | (this.get16(off + 2) << 16)) >>> 0; }
  set8(off: number, v: number): void { this.check(off, 1); this.bytes[off] = v; }
  set16(off: number, v: number): void { this.set8(off, v & 0xff); this.set8(off + 1, (v >>> 8) & 0xff); }
  set32(off: number, v: number): void { this.set16(off, v & 0xffff); this.set16(off + 2, (v >>> 16) & 0xffff); }

  /** Makes the bits of `mask` in the `width`-byte register at `off` writable by the guest. */
  writable(off: number, width: ConfigWidth, mask: number): void { this.putMask(this.wmask, off, width, mask); }
  /** Makes the bits of `mask` write-1-to-clear. */
  w1c(off: number, width: ConfigWidth, mask: number): void { this.putMask(this.w1cmask, off, width, mask); }

  private putMask(m: Uint8Array, off: number, width: number, mask: number): void {
    this.check(off, width);
    for (let i = 0; i < width; i++) m[off + i] = (mask >>> (8 * i)) & 0xff;
  }

  /** Calls `fn` after every guest write that touched [off, off+size). */
  watch(off: number, size: number, fn: () => void): void {
    this.check(off, size);
    this.watches.push({ start: off, end: off + size, fn });
  }

  /** Records the current contents as the power-on state that `reset()` restores. */
  seal(): void { this.powerOn = this.bytes.slice(); }

  /** Restores the power-on contents (watchers are not called: the owner applies the side effects). */
  reset(): void { if (this.powerOn !== null) this.bytes.set(this.powerOn); }

  // guest-controlled: offset and width come from an ECAM access; bytes outside the space read as all-ones.
  /** A guest read of `width` bytes, little-endian. */
  read(off: number, width: ConfigWidth): number {
    let v = 0;
    for (let i = width - 1; i >= 0; i--) {
      const at = off + i;
      v = (v * 256) + (at >= 0 && at < this.size ? this.bytes[at]! : 0xff);
    }
    return v;
  }

  // guest-controlled: any offset, width and value; read-only bits keep their value, RW1C bits clear on 1.
  /** A guest write; returns false when nothing in the space was addressed. */
  write(off: number, width: ConfigWidth, value: number): boolean {
    if (!Number.isInteger(off) || off < 0 || off + width > this.size) return false;
    this.before.set(this.bytes.subarray(off, off + width));
    this.beforeOff = off;
    this.beforeLen = width;
    for (let i = 0; i < width; i++) {
      const at = off + i;
      const b = Math.floor(value / 2 ** (8 * i)) & 0xff;
      const m = this.wmask[at]!;
      let nb = (this.bytes[at]! & ~m) | (b & m);
      nb &= ~(b & this.w1cmask[at]!);
      this.bytes[at] = nb;
    }
    for (const w of this.watches) if (off < w.end && w.start < off + width) w.fn();
    this.beforeOff = -1;
    return true;
  }

  /** While a watcher runs: the byte at `off` before the guest's write (the current byte if the write missed it). */
  previous8(off: number): number {
    const i = off - this.beforeOff;
    return this.beforeOff >= 0 && i >= 0 && i < this.beforeLen ? this.before[i]! : this.get8(off);
  }
  previous16(off: number): number { return this.previous8(off) | (this.previous8(off + 1) << 8); }
}

/** A capability's registers, addressed relative to its header. */
export class ConfigWindow {
  constructor(private readonly cfg: ConfigSpace, readonly base: number, readonly size: number) {}

  private at(rel: number, len: number): number {
    if (!Number.isInteger(rel) || rel < 0 || rel + len > this.size) throw new RangeError(`capability register 0x${rel.toString(16)}+${len} is outside its ${this.size}-byte capability at 0x${this.base.toString(16)}`);
    return this.base + rel;
  }

  get8(rel: number): number { return this.cfg.get8(this.at(rel, 1)); }
  get16(rel: number): number { return this.cfg.get16(this.at(rel, 2)); }
  get32(rel: number): number { return this.cfg.get32(this.at(rel, 4)); }
  set8(rel: number, v: number): void { this.cfg.set8(this.at(rel, 1), v); }
  set16(rel: number, v: number): void { this.cfg.set16(this.at(rel, 2), v); }
  set32(rel: number, v: number): void { this.cfg.set32(this.at(rel, 4), v); }
  writable(rel: number, width: ConfigWidth, mask: number): void { this.cfg.writable(this.at(rel, width), width, mask); }
  w1c(rel: number, width: ConfigWidth, mask: number): void { this.cfg.w1c(this.at(rel, width), width, mask); }
  watch(rel: number, size: number, fn: () => void): void { this.cfg.watch(this.at(rel, size), size, fn); }
  /** While a watcher runs: the 16-bit register before the guest's write. */
  previous16(rel: number): number { return this.cfg.previous16(this.at(rel, 2)); }
}

/** A capability in the standard list: the framework writes its ID and next pointer; `install` the rest. */
export interface CapabilitySpec {
  /** PCI_CAP_ID_*. */
  readonly id: number;
  /** Bytes including the 2-byte header; a multiple of 4 is not required. */
  readonly size: number;
  /** Sets the registers' power-on values, write masks and watchers (called once, before the space is sealed). */
  install(cap: ConfigWindow): void;
}

/** A capability in the extended list (PCIe 4.0 §7.6.3): header = ID | version << 16 | next << 20. */
export interface ExtCapabilitySpec {
  /** PCI_EXT_CAP_ID_*. */
  readonly id: number;
  readonly version: number;
  /** Bytes including the 4-byte header. */
  readonly size: number;
  /** A fixed offset (dword aligned, >= 0x100), as real hardware has (82576: SR-IOV at 0x160); default: next free. */
  readonly offset?: number;
  install(cap: ConfigWindow): void;
}

const align4 = (n: number) => (n + 3) & ~3;

/**
 * Places capabilities in a config space and links both lists; returns each one's offset, in the order given.
 * Throws RangeError on a layout that cannot fit (a wiring bug).
 */
export function installCapabilities(cfg: ConfigSpace, caps: readonly CapabilitySpec[], ext: readonly ExtCapabilitySpec[]): { caps: number[]; ext: number[] } {
  const offsets: number[] = [];
  let at = PCI_STD_HEADER_SIZEOF;
  let prevNext = PCI_CAPABILITY_LIST;
  for (const c of caps) {
    if (!Number.isInteger(c.size) || c.size < 2) throw new RangeError(`capability 0x${c.id.toString(16)} has a bad size ${c.size}`);
    if (at + c.size > PCI_CFG_SPACE_SIZE) throw new RangeError(`capabilities do not fit in the 256-byte header space (capability 0x${c.id.toString(16)} at 0x${at.toString(16)})`);
    cfg.set8(prevNext, at);
    cfg.set8(at, c.id);
    cfg.set8(at + PCI_CAP_LIST_NEXT, 0);
    c.install(new ConfigWindow(cfg, at, c.size));
    offsets.push(at);
    prevNext = at + PCI_CAP_LIST_NEXT;
    at = align4(at + c.size);
  }
  if (caps.length > 0) cfg.set16(PCI_STATUS, cfg.get16(PCI_STATUS) | PCI_STATUS_CAP_LIST);
  return { caps: offsets, ext: installExt(cfg, ext) };
}

function installExt(cfg: ConfigSpace, ext: readonly ExtCapabilitySpec[]): number[] {
  const placed: Array<{ spec: ExtCapabilitySpec; off: number }> = [];
  const overlapping = (off: number, size: number) => placed.filter((p) => off < p.off + p.spec.size && p.off < off + size);
  for (const e of ext) {
    if (!Number.isInteger(e.size) || e.size < 4) throw new RangeError(`extended capability 0x${e.id.toString(16)} has a bad size ${e.size}`);
    if (e.offset === undefined) continue;
    if (!Number.isInteger(e.offset) || e.offset < PCI_EXT_CAP_START || (e.offset & 3) !== 0 || e.offset + e.size > PCI_CFG_SPACE_EXP_SIZE || overlapping(e.offset, e.size).length > 0) {
      throw new RangeError(`extended capability 0x${e.id.toString(16)} cannot be placed at 0x${e.offset.toString(16)}: need a free, dword-aligned offset in 0x100..0xfff`);
    }
    placed.push({ spec: e, off: e.offset });
  }
  let at = PCI_EXT_CAP_START;
  for (const e of ext) {
    if (e.offset !== undefined) continue;
    for (let o = overlapping(at, e.size); o.length > 0; o = overlapping(at, e.size)) at = align4(Math.max(...o.map((p) => p.off + p.spec.size)));
    if (at + e.size > PCI_CFG_SPACE_EXP_SIZE) throw new RangeError(`extended capability 0x${e.id.toString(16)} does not fit in the 4 KiB space`);
    placed.push({ spec: e, off: at });
    at = align4(at + e.size);
  }
  placed.sort((a, b) => a.off - b.off);
  // The list starts at 0x100; when nothing landed there, a null capability (ID 0) heads it. Anything overlapping
  // 0x100..0x103 would start at 0x100, so those four bytes are free.
  const chain = placed.map((p) => p.off);
  if (placed.length > 0 && chain[0] !== PCI_EXT_CAP_START) chain.unshift(PCI_EXT_CAP_START);
  chain.forEach((off, i) => {
    const p = placed.find((q) => q.off === off);
    const next = chain[i + 1] ?? 0;
    cfg.set32(off, (p === undefined ? 0 : (p.spec.id & 0xffff) | ((p.spec.version & 0xf) << 16)) | (next << 20));
  });
  for (const p of placed) p.spec.install(new ConfigWindow(cfg, p.off, p.spec.size));
  return ext.map((e) => placed.find((p) => p.spec === e)!.off);
}
