// A reader for ELF64 little-endian RISC-V executables (System V gABI, ELF-64 Object File Format v1.5):
// the loadable segments and the entry point, for `--bios FILE.elf` and `--bios none --kernel ELF`.
// person-controlled input: every offset and size is checked against the file before use.

export interface ElfSegment {
  /** Physical load address (p_paddr). */
  paddr: number;
  /** Bytes taken from the file. */
  data: Uint8Array;
  /** Size in memory; bytes past data.length are zero (bss). */
  memSize: number;
}

export interface ElfImage {
  entry: number;
  segments: ElfSegment[];
}

const EM_RISCV = 243;
const PT_LOAD = 1;

export class ElfError extends Error {}

export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

function u64(v: DataView, off: number, what: string): number {
  const x = v.getBigUint64(off, true);
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError(`${what} 0x${x.toString(16)} is out of range`);
  return Number(x);
}

export function parseElf(bytes: Uint8Array): ElfImage {
  if (!isElf(bytes)) throw new ElfError('not an ELF file (bad magic)');
  if (bytes.length < 64) throw new ElfError('ELF header is truncated');
  if (bytes[4] !== 2) throw new ElfError('not a 64-bit ELF (EI_CLASS is not ELFCLASS64)');
  if (bytes[5] !== 1) throw new ElfError('not a little-endian ELF');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const machine = v.getUint16(18, true);
  if (machine !== EM_RISCV) throw new ElfError(`ELF machine is ${machine}, not RISC-V (${EM_RISCV})`);
  const rawEntry = v.getBigUint64(24, true);
  if (rawEntry >= 0x8000_0000_0000_0000n) {
    throw new ElfError(`entry point 0x${rawEntry.toString(16)} is a kernel virtual address: this looks like vmlinux; ` +
      'give the kernel\'s arch/riscv/boot/Image instead');
  }
  const entry = u64(v, 24, 'entry point');
  const phoff = u64(v, 32, 'program header offset');
  const phentsize = v.getUint16(54, true);
  const phnum = v.getUint16(56, true);
  if (phentsize < 56) throw new ElfError(`program header entry size ${phentsize} is too small`);
  if (phoff + phnum * phentsize > bytes.length) throw new ElfError('program headers run past the end of the file');
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (v.getUint32(ph, true) !== PT_LOAD) continue;
    const offset = u64(v, ph + 8, 'segment offset');
    const paddr = u64(v, ph + 24, 'segment address');
    const filesz = u64(v, ph + 32, 'segment file size');
    const memsz = u64(v, ph + 40, 'segment memory size');
    if (offset + filesz > bytes.length) throw new ElfError(`segment ${i} runs past the end of the file`);
    if (memsz < filesz) throw new ElfError(`segment ${i} is smaller in memory than in the file`);
    if (memsz === 0) continue;
    segments.push({ paddr, data: bytes.subarray(offset, offset + filesz), memSize: memsz });
  }
  if (segments.length === 0) throw new ElfError('ELF has no loadable segment');
  return { entry, segments };
}
