// The RISC-V Linux `Image` header (Linux Documentation/arch/riscv/boot-image-header.rst): where the
// kernel wants to sit in RAM and how much memory it needs.
// person-controlled input: a file named on the command line; every field is checked before use.

export interface KernelImageInfo {
  /** Offset from the start of RAM at which the image must be loaded. */
  textOffset: number;
  /** Bytes the kernel occupies once running (image plus bss), 0 if the header does not say. */
  imageSize: number;
  version: { major: number; minor: number };
}

const HEADER_SIZE = 64;
const MAGIC2 = 0x05435352; // "RSC\x05" at offset 0x38
const MAGIC_OLD = 'RISCV\0\0\0'; // deprecated magic at offset 0x30

/** Returns the header's facts, or null when `bytes` does not start with a RISC-V Image header. */
export function parseKernelImage(bytes: Uint8Array): KernelImageInfo | null {
  if (bytes.length < HEADER_SIZE) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const magic2 = v.getUint32(0x38, true);
  const magicOld = String.fromCharCode(...bytes.subarray(0x30, 0x38));
  if (magic2 !== MAGIC2 && magicOld !== MAGIC_OLD) return null;
  const textOffset = v.getBigUint64(8, true);
  const imageSize = v.getBigUint64(16, true);
  const version = v.getUint32(0x28, true);
  if (textOffset > 0x1_0000_0000n || imageSize > 0x1_0000_0000n) return null;
  return {
    textOffset: Number(textOffset),
    imageSize: Number(imageSize),
    version: { major: version >>> 16, minor: version & 0xffff },
  };
}
