// Flattened device tree reader (Devicetree Specification v0.4 §5) for untrusted blobs (--dtb files, tests):
// every offset and length is bounds-checked; any malformed input gives an FdtError, never another exception.

import {
  FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_HEADER_SIZE, FDT_MAGIC, FDT_NOP, FDT_PROP, FdtError,
} from './fdt.js';

export interface FdtNode {
  name: string;
  props: Map<string, Uint8Array>;
  children: FdtNode[];
}

export interface FdtTree {
  root: FdtNode;
  reservations: Array<{ address: bigint; size: bigint }>;
  bootCpuid: number;
  version: number;
}

/** Deeper nesting than this is treated as malformed (real trees are < 10 levels). */
export const FDT_MAX_DEPTH = 64;

const decoder = new TextDecoder();

// guest-controlled: the blob may come from a user-supplied --dtb file; nothing in it is trusted.
export function parseFdt(blob: Uint8Array): FdtTree {
  if (blob.length < FDT_HEADER_SIZE) throw new FdtError(`device tree blob is ${blob.length} bytes; the header alone is ${FDT_HEADER_SIZE}`);
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const h = (i: number) => dv.getUint32(4 * i, false);
  if (h(0) !== FDT_MAGIC) throw new FdtError(`bad device tree magic 0x${h(0).toString(16)}; expected 0x${FDT_MAGIC.toString(16)}`);
  const total = h(1);
  const structOff = h(2);
  const stringsOff = h(3);
  const rsvOff = h(4);
  const version = h(5);
  const lastComp = h(6);
  const bootCpuid = h(7);
  const stringsSize = h(8);
  if (total < FDT_HEADER_SIZE || total > blob.length) throw new FdtError(`totalsize ${total} is outside ${FDT_HEADER_SIZE}..${blob.length} (the file size)`);
  if (version < 16 || lastComp > 17) throw new FdtError(`device tree version ${version} (last compatible ${lastComp}) is not supported; need 16 or 17`);
  const structSize = version >= 17 ? h(9) : total - Math.min(structOff, total);
  const within = (off: number, size: number) => off >= FDT_HEADER_SIZE && off <= total && size <= total - off;
  if (!within(structOff, structSize) || structOff % 4 !== 0) throw new FdtError(`structure block ${structOff}+${structSize} is outside the blob or misaligned`);
  if (!within(stringsOff, stringsSize)) throw new FdtError(`strings block ${stringsOff}+${stringsSize} is outside the blob`);
  if (!within(rsvOff, 0) || rsvOff % 8 !== 0) throw new FdtError(`memory reservation block offset ${rsvOff} is outside the blob or misaligned`);

  const reservations: FdtTree['reservations'] = [];
  for (let p = rsvOff; ; p += 16) {
    if (p + 16 > total) throw new FdtError('memory reservation block has no terminating entry');
    const address = dv.getBigUint64(p, false);
    const size = dv.getBigUint64(p + 8, false);
    if (address === 0n && size === 0n) break;
    reservations.push({ address, size });
  }

  // For each strings-block offset, where its NUL is (-1: none), so hostile name offsets cost O(1) each.
  let nulAt: Int32Array | null = null;
  const names = new Map<number, string>();
  const stringAt = (nameoff: number): string => {
    if (nameoff >= stringsSize) throw new FdtError(`property name offset ${nameoff} is outside the strings block (${stringsSize} bytes)`);
    const known = names.get(nameoff);
    if (known !== undefined) return known;
    if (nulAt === null) {
      nulAt = new Int32Array(stringsSize);
      let next = -1;
      for (let i = stringsSize - 1; i >= 0; i--) {
        if (blob[stringsOff + i] === 0) next = i;
        nulAt[i] = next;
      }
    }
    const nul = nulAt[nameoff]!;
    if (nul < 0) throw new FdtError(`property name at strings offset ${nameoff} is not NUL-terminated`);
    const name = decoder.decode(blob.subarray(stringsOff + nameoff, stringsOff + nul));
    names.set(nameoff, name);
    return name;
  };

  const end = structOff + structSize;
  let pos = structOff;
  const u32 = (): number => {
    if (pos + 4 > end) throw new FdtError(`structure block ends inside a token at offset ${pos}`);
    const v = dv.getUint32(pos, false);
    pos += 4;
    return v;
  };
  const stack: FdtNode[] = [];
  let root: FdtNode | null = null;
  for (;;) {
    const token = u32();
    if (token === FDT_BEGIN_NODE) {
      if (stack.length === 0 && root !== null) throw new FdtError('a second root node follows the first');
      if (stack.length >= FDT_MAX_DEPTH) throw new FdtError(`nodes nested deeper than ${FDT_MAX_DEPTH}`);
      const nul = blob.indexOf(0, pos);
      if (nul < 0 || nul >= end) throw new FdtError(`node name at offset ${pos} is not NUL-terminated`);
      const node: FdtNode = { name: decoder.decode(blob.subarray(pos, nul)), props: new Map(), children: [] };
      pos = Math.ceil((nul + 1) / 4) * 4;
      if (stack.length === 0) root = node; else stack[stack.length - 1]!.children.push(node);
      stack.push(node);
    } else if (token === FDT_END_NODE) {
      if (stack.length === 0) throw new FdtError(`FDT_END_NODE without an open node at offset ${pos - 4}`);
      stack.pop();
    } else if (token === FDT_PROP) {
      const node = stack[stack.length - 1];
      if (node === undefined) throw new FdtError(`property outside any node at offset ${pos - 4}`);
      const len = u32();
      const name = stringAt(u32());
      if (len > end - pos) throw new FdtError(`property "${name}" of ${len} bytes runs past the structure block`);
      if (node.props.has(name)) throw new FdtError(`node "${node.name}" has property "${name}" twice`);
      node.props.set(name, blob.slice(pos, pos + len));
      pos += Math.ceil(len / 4) * 4;
    } else if (token === FDT_NOP) {
      continue;
    } else if (token === FDT_END) {
      if (stack.length !== 0) throw new FdtError(`FDT_END with ${stack.length} nodes still open`);
      if (root === null) throw new FdtError('the structure block has no root node');
      return { root, reservations, bootCpuid, version };
    } else {
      throw new FdtError(`unknown structure token 0x${token.toString(16)} at offset ${pos - 4}`);
    }
  }
}

/** The node at an absolute path such as "/soc/serial@10000000", or null. */
export function findNode(root: FdtNode, path: string): FdtNode | null {
  let node: FdtNode | undefined = root;
  for (const part of path.split('/').filter((p) => p !== '')) {
    node = node.children.find((c) => c.name === part);
    if (node === undefined) return null;
  }
  return node;
}

/** A property's value as big-endian 32-bit cells, or null when absent or not a multiple of 4 bytes. */
export function propU32s(node: FdtNode, name: string): number[] | null {
  const v = node.props.get(name);
  if (v === undefined || v.length % 4 !== 0) return null;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return Array.from({ length: v.length / 4 }, (_, i) => dv.getUint32(4 * i, false));
}

/** A property's value as big-endian 64-bit values, or null. */
export function propU64s(node: FdtNode, name: string): bigint[] | null {
  const v = node.props.get(name);
  if (v === undefined || v.length % 8 !== 0) return null;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return Array.from({ length: v.length / 8 }, (_, i) => dv.getBigUint64(8 * i, false));
}

/** A string-list property, or null when absent or not NUL-terminated. */
export function propStrings(node: FdtNode, name: string): string[] | null {
  const v = node.props.get(name);
  if (v === undefined || v.length === 0 || v[v.length - 1] !== 0) return null;
  return decoder.decode(v.subarray(0, v.length - 1)).split('\0');
}

export function propString(node: FdtNode, name: string): string | null {
  return propStrings(node, name)?.[0] ?? null;
}
