// The host physical address map the IOMMU's tables point into (ARCHITECTURE.md "host hardware" layer).
//
// vmio keeps each VM's RAM in a buffer of its own, at the same guest physical base in every VM (0x8000_0000). The
// IOMMU's G-stage tables need one address space in which every VM's RAM, every interrupt-file doorbell and the
// IOMMU's own table memory are distinct, as they are in a real host's physical memory. This map gives each a host
// physical range (HPA) and remembers who owns it and where it is on the owner's bus ("local" address), so that the
// hypervisor's map() can tell a page of the target VM from a page of another VM or of the tables, and so that a
// function's DMA space can turn a translated HPA back into an address in its owner's memory.

/** Where host ranges are placed: above 64 GiB, far from any guest physical address vmio uses. */
export const HOST_PA_BASE = 2 ** 36;
const GIB = 2 ** 30;

export type HostRangeKind = 'ram' | 'doorbell' | 'iommu-tables';

export interface HostRange {
  readonly hpa: number;
  readonly size: number;
  readonly kind: HostRangeKind;
  /** The VM that owns it ('' for the IOMMU's tables). */
  readonly owner: string;
  /** Its address on the owner's bus: the guest physical address of the RAM or of the interrupt file. */
  readonly local: number;
}

export class HostPhysMap {
  private readonly ranges: HostRange[] = [];
  private next = HOST_PA_BASE;

  /**
   * Places a range of `size` bytes. RAM is placed at an HPA congruent to its guest physical base modulo 1 GiB, so
   * a guest page that can be a 2 MiB or 1 GiB leaf on the guest side can be one on the host side too.
   */
  place(kind: HostRangeKind, owner: string, size: number, local: number): HostRange {
    if (!Number.isSafeInteger(size) || size <= 0 || size % 4096 !== 0) throw new RangeError(`host range of ${size} bytes`);
    const align = kind === 'doorbell' ? 4096 : GIB;
    let hpa = Math.ceil(this.next / align) * align;
    if (kind === 'ram') hpa += local % GIB;
    if (hpa + size > Number.MAX_SAFE_INTEGER) throw new RangeError('host physical address space exhausted');
    const r: HostRange = { hpa, size, kind, owner, local };
    this.ranges.push(r);
    this.next = hpa + size;
    return r;
  }

  remove(r: HostRange): void {
    const i = this.ranges.indexOf(r);
    if (i >= 0) this.ranges.splice(i, 1);
  }

  /** The range holding `hpa`, or null. */
  find(hpa: number): HostRange | null {
    for (const r of this.ranges) if (hpa >= r.hpa && hpa < r.hpa + r.size) return r;
    return null;
  }

  /** A person-readable account of what lies at [hpa, hpa+len), for error messages. */
  describe(hpa: number, len: number): string {
    const hits = this.ranges.filter((r) => hpa < r.hpa + r.size && hpa + len > r.hpa);
    if (hits.length === 0) return 'nothing (no RAM, doorbell or table memory is placed there)';
    return hits.map((r) => r.kind === 'iommu-tables' ? "the IOMMU's own table memory"
      : `${r.kind === 'ram' ? 'RAM' : 'an interrupt-file doorbell'} of VM '${r.owner}'`).join(' and ');
  }
}

export const hex = (n: number): string => `0x${n.toString(16)}`;
