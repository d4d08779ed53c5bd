// Hypercall argument access (the role of Xen's copy_from_guest/copy_to_guest): a checked view of the calling
// domain's memory for the structs a hypercall names by pointer. A pointer is a guest *virtual* address when the
// wiring point supplies the calling hart's translation (as on Xen/Arm, where the hypervisor walks the guest's own
// stage-1 tables), and a guest physical address otherwise (satp = Bare, and tests). Every range is translated page by
// page and then resolved through the domain's DmaSpace, which refuses anything outside its RAM: nothing a guest
// passes can reach memory it does not own, and nothing here throws. Structs are copied whole into a scratch buffer,
// parsed, and written back whole.

import { DMA_OK, type DmaSpace } from '../../memory/dma.js';
import { XEN_PAGE_SIZE } from './abi.js';

/** The calling hart's address translation; the wiring point implements it over the hart's MMU without faulting. */
export interface AddressTranslator {
  /**
   * The guest physical address for `va` (sign-extended: negative for upper-half kernel addresses, as the hart's MMU
   * takes them) for an access of the given direction, or -1 when unmapped or not permitted.
   */
  translate(va: number, write: boolean): number;
}

/** The largest struct a hypercall copies (struct evtchn_status and xen_add_to_physmap are 24 bytes). */
const SCRATCH = 64;

export class GuestArgs {
  /** The struct being read or written; callers parse it through `view`. */
  readonly buf = new Uint8Array(SCRATCH);
  readonly view = new DataView(this.buf.buffer);
  private readonly parts: Uint8Array[] = [];
  private readonly addrs: number[] = [];
  private readonly probe = new Uint8Array(SCRATCH);
  /** Accesses refused (an unmapped pointer, a range outside RAM). */
  faults = 0;

  constructor(private readonly mem: DmaSpace) {}

  private translator: AddressTranslator | null = null;

  /** Sets the translation for the current call (null: pointers are guest physical). */
  use(translator: AddressTranslator | null): void { this.translator = translator; }

  // guest-controlled: `ptr` is a register value.
  /** Copies `len` bytes at guest pointer `ptr` into buf[0, len); false (counted) when any byte is not the guest's. */
  read(ptr: bigint, len: number): boolean { return this.copy(ptr, len, false); }

  /** Copies buf[0, len) to guest pointer `ptr`; false (counted) when any byte is not the guest's. */
  write(ptr: bigint, len: number): boolean { return this.copy(ptr, len, true); }

  private copy(ptr: bigint, len: number, write: boolean): boolean {
    if (len <= 0 || len > SCRATCH) return this.fail();
    // A pointer is a signed 64-bit value: kernel virtual addresses are sign-extended (upper half), as the hart's MMU
    // takes them; a physical one must be non-negative.
    const p = BigInt.asIntN(64, ptr);
    if (p < BigInt(Number.MIN_SAFE_INTEGER) || p > BigInt(Number.MAX_SAFE_INTEGER - len)) return this.fail();
    let va = Number(p);
    if (va < 0 && this.translator === null) return this.fail();
    // Translate every page first so that a fault part-way leaves guest memory unchanged.
    const parts = this.parts;
    parts.length = 0;
    const addrs = this.addrs;
    addrs.length = 0;
    let done = 0;
    while (done < len) {
      const n = Math.min(len - done, XEN_PAGE_SIZE - (((va % XEN_PAGE_SIZE) + XEN_PAGE_SIZE) % XEN_PAGE_SIZE));
      const pa = this.translator === null ? va : this.translator.translate(va, write);
      if (!Number.isSafeInteger(pa) || pa < 0) return this.fail();
      addrs.push(pa);
      parts.push(this.buf.subarray(done, done + n));
      done += n;
      va += n;
    }
    if (write && parts.length > 1) {
      // A struct across a page boundary: check that every page is RAM before writing any of them.
      for (let i = 0; i < parts.length; i++) {
        if (this.mem.read(addrs[i]!, this.probe.subarray(0, parts[i]!.length)) !== DMA_OK) return this.fail();
      }
    }
    for (let i = 0; i < parts.length; i++) {
      const r = write ? this.mem.write(addrs[i]!, parts[i]!) : this.mem.read(addrs[i]!, parts[i]!);
      if (r !== DMA_OK) return this.fail();
    }
    return true;
  }

  private fail(): boolean {
    this.faults++;
    return false;
  }

  u16(off: number): number { return this.view.getUint16(off, true); }
  u32(off: number): number { return this.view.getUint32(off, true); }
  u64(off: number): bigint { return this.view.getBigUint64(off, true); }
  setU16(off: number, v: number): void { this.view.setUint16(off, v & 0xffff, true); }
  setI16(off: number, v: number): void { this.view.setInt16(off, v, true); }
  setU32(off: number, v: number): void { this.view.setUint32(off, v >>> 0, true); }
  setU64(off: number, v: bigint): void { this.view.setBigUint64(off, BigInt.asUintN(64, v), true); }
  clear(len: number): void { this.buf.fill(0, 0, len); }
}
