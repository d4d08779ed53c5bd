// Pages the hypervisor owns and a guest sees through XENMEM_add_to_physmap (memory.h): shared_info and the grant
// table frames. In an auto-translated guest the call makes the hypervisor's page appear at a guest frame. vmio's
// guest RAM is one buffer the hart reads directly, so the alias is realised in place: while a page is mapped, its
// bytes live in the guest frame it is mapped at (the frame's old contents are replaced, as Xen replaces the RAM page
// there); while it is not mapped, they live in the hypervisor's own buffer. Moving or unmapping a page carries its
// contents along, so the page keeps its identity as Xen's page does. The domain tracks which frames are aliases
// (domain.ts) and refuses them wherever a guest must name memory of its own (grant frames, vcpu_info).

import type { DmaSpace } from '../../memory/dma.js';
import { XEN_PAGE_SIZE } from './abi.js';

/** Byte access to a small window of memory the hypervisor updates (event bitmaps, vcpu_info). */
export interface ByteWindow {
  read8(off: number): number;
  write8(off: number, v: number): void;
}

export class XenPage implements ByteWindow {
  private frame = -1;
  private readonly own = new Uint8Array(XEN_PAGE_SIZE);
  private readonly ownView = new DataView(this.own.buffer);

  constructor(readonly name: string, private readonly mem: DmaSpace) {}

  /** The guest frame number the page is mapped at, or -1. */
  get gfn(): number { return this.frame; }

  private addr(off: number): number { return this.frame * XEN_PAGE_SIZE + off; }

  // A mapped page's frame was checked to be guest RAM when it was mapped, so the accesses below only fail if the
  // domain's DMA space is switched off; a failed read then gives 0 and a failed write is lost.
  read8(off: number): number {
    if (this.frame < 0) return this.own[off]!;
    const v = this.mem.read8(this.addr(off));
    return v < 0 ? 0 : v;
  }
  write8(off: number, v: number): void {
    if (this.frame < 0) this.own[off] = v; else this.mem.write8(this.addr(off), v);
  }
  read16(off: number): number {
    if (this.frame < 0) return this.ownView.getUint16(off, true);
    const v = this.mem.read16(this.addr(off));
    return v < 0 ? 0 : v;
  }
  write16(off: number, v: number): void {
    if (this.frame < 0) this.ownView.setUint16(off, v, true); else this.mem.write16(this.addr(off), v);
  }
  read32(off: number): number {
    if (this.frame < 0) return this.ownView.getUint32(off, true);
    const v = this.mem.read32(this.addr(off));
    return v < 0 ? 0 : v;
  }

  /** Maps the page at guest frame `gfn` (which the caller checked is the domain's RAM), carrying its contents. */
  mapAt(gfn: number): void {
    if (this.frame >= 0) this.unmap();
    this.mem.write(gfn * XEN_PAGE_SIZE, this.own);
    this.frame = gfn;
  }

  /** Takes the page's contents back from the guest frame it was mapped at. */
  unmap(): void {
    if (this.frame < 0) return;
    this.mem.read(this.frame * XEN_PAGE_SIZE, this.own);
    this.frame = -1;
  }
}

/** A window at a guest physical address (a registered vcpu_info), reached through the domain's DMA space. */
export class RamWindow implements ByteWindow {
  constructor(private readonly mem: DmaSpace, readonly base: number) {}
  read8(off: number): number {
    const v = this.mem.read8(this.base + off);
    return v < 0 ? 0 : v;
  }
  write8(off: number, v: number): void { this.mem.write8(this.base + off, v); }
}

/** Sets bit `bit` of the little-endian bitmap at byte `off`; returns whether it was already set. */
export function testAndSetBit(w: ByteWindow, off: number, bit: number): boolean {
  const at = off + (bit >>> 3);
  const m = 1 << (bit & 7);
  const b = w.read8(at);
  if ((b & m) !== 0) return true;
  w.write8(at, b | m);
  return false;
}

export function testBit(w: ByteWindow, off: number, bit: number): boolean {
  return (w.read8(off + (bit >>> 3)) & (1 << (bit & 7))) !== 0;
}

/** Clears the bit; returns whether it was set. */
export function testAndClearBit(w: ByteWindow, off: number, bit: number): boolean {
  const at = off + (bit >>> 3);
  const m = 1 << (bit & 7);
  const b = w.read8(at);
  if ((b & m) === 0) return false;
  w.write8(at, b & ~m);
  return true;
}
