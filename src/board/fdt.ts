// Flattened device tree writer (Devicetree Specification v0.4 §5): header, memory reservation block, structure
// block (FDT_BEGIN_NODE / FDT_PROP / FDT_END_NODE / FDT_END) and strings block, big-endian, 4-byte aligned.

export const FDT_MAGIC = 0xd00dfeed;
export const FDT_BEGIN_NODE = 0x1;
export const FDT_END_NODE = 0x2;
export const FDT_PROP = 0x3;
export const FDT_NOP = 0x4;
export const FDT_END = 0x9;
/** Version written (§5.2): 17, compatible back to 16. */
export const FDT_VERSION = 17;
export const FDT_LAST_COMP_VERSION = 16;
export const FDT_HEADER_SIZE = 40;

export class FdtError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FdtError';
  }
}

/** A growable big-endian byte buffer. */
class ByteSink {
  buf = new Uint8Array(4096);
  len = 0;
  private view = new DataView(this.buf.buffer);

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.len, v >>> 0, false);
    this.len += 4;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Zero bytes up to a multiple of `a`. */
  align(a: number): void {
    const pad = (a - (this.len % a)) % a;
    this.reserve(pad);
    this.buf.fill(0, this.len, this.len + pad);
    this.len += pad;
  }
}

const encoder = new TextEncoder();

function cstring(s: string, what: string): Uint8Array {
  const b = encoder.encode(s);
  if (b.includes(0)) throw new FdtError(`${what} ${JSON.stringify(s)} contains a NUL byte`);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

function checkU32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new FdtError(`${what}: ${v} is not a 32-bit cell value`);
  return v;
}

function toU64(v: number | bigint, what: string): bigint {
  const b = typeof v === 'bigint' ? v : (Number.isSafeInteger(v) ? BigInt(v) : -1n);
  if (b < 0n || b > 0xffff_ffff_ffff_ffffn) throw new FdtError(`${what}: ${v} is not a 64-bit value`);
  return b;
}

/**
 * Builds a device tree blob node by node:
 *   const b = new FdtBuilder(); b.beginNode(''); b.propU32('#address-cells', 2); ...; b.endNode(); b.finish()
 */
export class FdtBuilder {
  private readonly struct = new ByteSink();
  private readonly strings = new ByteSink();
  private readonly stringOffsets = new Map<string, number>();
  private readonly reservations: Array<[bigint, bigint]> = [];
  private depth = 0;
  private closedRoot = false;
  private nextPhandle = 1;
  bootCpuid = 0;

  /** A fresh phandle value (1, 2, ...); put it on a node with `propU32('phandle', h)`. */
  allocPhandle(): number { return this.nextPhandle++; }

  /** Adds a /memreserve/ entry. */
  addReservation(address: number | bigint, size: number | bigint): void {
    this.reservations.push([toU64(address, 'reservation address'), toU64(size, 'reservation size')]);
  }

  beginNode(name: string): void {
    if (this.closedRoot) throw new FdtError(`node "${name}" after the root node was closed`);
    if (this.depth === 0 && name !== '') throw new FdtError(`the root node's name must be empty, not "${name}"`);
    if (this.depth > 0 && (name === '' || name.includes('/'))) throw new FdtError(`invalid node name "${name}"`);
    this.struct.u32(FDT_BEGIN_NODE);
    this.struct.bytes(cstring(name, 'node name'));
    this.struct.align(4);
    this.depth++;
  }

  endNode(): void {
    if (this.depth === 0) throw new FdtError('endNode() without a matching beginNode()');
    this.struct.u32(FDT_END_NODE);
    this.depth--;
    if (this.depth === 0) this.closedRoot = true;
  }

  private nameOffset(name: string): number {
    let off = this.stringOffsets.get(name);
    if (off === undefined) {
      off = this.strings.len;
      this.strings.bytes(cstring(name, 'property name'));
      this.stringOffsets.set(name, off);
    }
    return off;
  }

  /** A property with raw bytes as its value. */
  propBytes(name: string, value: Uint8Array): void {
    if (this.depth === 0) throw new FdtError(`property "${name}" outside any node`);
    if (name === '') throw new FdtError('empty property name');
    this.struct.u32(FDT_PROP);
    this.struct.u32(value.length);
    this.struct.u32(this.nameOffset(name));
    this.struct.bytes(value);
    this.struct.align(4);
  }

  propEmpty(name: string): void { this.propBytes(name, new Uint8Array(0)); }

  propU32(name: string, v: number): void { this.propCells(name, [v]); }

  propCells(name: string, cells: readonly number[]): void {
    const b = new Uint8Array(4 * cells.length);
    const dv = new DataView(b.buffer);
    cells.forEach((c, i) => dv.setUint32(4 * i, checkU32(c, name), false));
    this.propBytes(name, b);
  }

  propU64(name: string, v: number | bigint): void { this.propU64s(name, [v]); }

  /** 64-bit values, each as two cells (high, low). */
  propU64s(name: string, values: ReadonlyArray<number | bigint>): void {
    const b = new Uint8Array(8 * values.length);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => dv.setBigUint64(8 * i, toU64(v, name), false));
    this.propBytes(name, b);
  }

  propString(name: string, s: string): void { this.propBytes(name, cstring(s, name)); }

  /** A string list (e.g. compatible): NUL-terminated strings back to back. */
  propStrings(name: string, list: readonly string[]): void {
    const parts = list.map((s) => cstring(s, name));
    const b = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { b.set(p, o); o += p.length; }
    this.propBytes(name, b);
  }

  /** Writes the blob. Every node must be closed. */
  finish(): Uint8Array {
    if (!this.closedRoot || this.depth !== 0) throw new FdtError(`unbalanced nodes: ${this.depth} still open at finish()`);
    const structBytes = new ByteSink();
    structBytes.bytes(this.struct.buf.subarray(0, this.struct.len));
    structBytes.u32(FDT_END);
    const rsvOff = FDT_HEADER_SIZE; // already 8-byte aligned
    const rsvSize = 16 * (this.reservations.length + 1);
    const structOff = rsvOff + rsvSize;
    const stringsOff = structOff + structBytes.len;
    const total = stringsOff + this.strings.len;
    const out = new Uint8Array(Math.ceil(total / 4) * 4);
    const dv = new DataView(out.buffer);
    const header = [FDT_MAGIC, out.length, structOff, stringsOff, rsvOff, FDT_VERSION, FDT_LAST_COMP_VERSION,
      this.bootCpuid, this.strings.len, structBytes.len];
    header.forEach((v, i) => dv.setUint32(4 * i, v >>> 0, false));
    this.reservations.forEach(([a, s], i) => {
      dv.setBigUint64(rsvOff + 16 * i, a, false);
      dv.setBigUint64(rsvOff + 16 * i + 8, s, false);
    });
    out.set(structBytes.buf.subarray(0, structBytes.len), structOff);
    out.set(this.strings.buf.subarray(0, this.strings.len), stringsOff);
    return out;
  }
}
