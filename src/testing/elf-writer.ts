// A test tool: writes a minimal ELF64 RISC-V executable (one PT_LOAD segment) from raw instruction words,
// for tests that boot bare-metal programs without a cross compiler.

export function makeElf(addr: number, words: readonly number[], bss = 0): Uint8Array {
  const phoff = 64;
  const dataOff = phoff + 56;
  const code = new Uint8Array(words.length * 4);
  const cv = new DataView(code.buffer);
  words.forEach((w, i) => cv.setUint32(i * 4, w >>> 0, true));
  const buf = new Uint8Array(dataOff + code.length);
  const v = new DataView(buf.buffer);
  buf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 243, true); // EM_RISCV
  v.setUint32(20, 1, true);
  v.setBigUint64(24, BigInt(addr), true);
  v.setBigUint64(32, BigInt(phoff), true);
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, 1, true);
  v.setUint32(phoff, 1, true); // PT_LOAD
  v.setUint32(phoff + 4, 7, true);
  v.setBigUint64(phoff + 8, BigInt(dataOff), true);
  v.setBigUint64(phoff + 16, BigInt(addr), true);
  v.setBigUint64(phoff + 24, BigInt(addr), true);
  v.setBigUint64(phoff + 32, BigInt(code.length), true);
  v.setBigUint64(phoff + 40, BigInt(code.length + bss), true);
  buf.set(code, dataOff);
  return buf;
}
