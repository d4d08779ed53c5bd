// Checks that a built guest program is a static riscv64 ELF executable (ELF-64 object file format, "gABI" e_ident, PT_INTERP).

export const EM_RISCV = 243;
const PT_INTERP = 3;

/** Why `bytes` is not a statically linked little-endian 64-bit RISC-V executable, or null when it is. */
export function staticRiscv64Problem(bytes: Uint8Array): string | null {
  if (bytes.length < 64) return 'file is shorter than an ELF-64 header';
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, false) !== 0x7f454c46) return 'not an ELF file (bad magic)';
  if (bytes[4] !== 2) return 'not a 64-bit ELF (EI_CLASS != ELFCLASS64)';
  if (bytes[5] !== 1) return 'not little-endian (EI_DATA != ELFDATA2LSB)';
  const type = dv.getUint16(16, true);
  if (type !== 2 && type !== 3) return `not an executable (e_type ${type})`;
  const machine = dv.getUint16(18, true);
  if (machine !== EM_RISCV) return `built for e_machine ${machine}, not RISC-V (${EM_RISCV})`;
  const phoff = Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phentsize < 56 || phoff + phnum * phentsize > bytes.length) return 'program header table out of bounds';
  for (let i = 0; i < phnum; i++) {
    if (dv.getUint32(phoff + i * phentsize, true) === PT_INTERP) return 'dynamically linked (has PT_INTERP); it must be static';
  }
  return null;
}
