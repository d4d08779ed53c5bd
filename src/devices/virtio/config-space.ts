// A virtio device's configuration space (virtio 1.2 §2.5 "Device Configuration Space") as a little-endian byte
// array: the device fills in its struct (virtio_blk_config, virtio_console_config, …) and says which writes it
// takes; transports do the access widths (MMIO: 1, 2 and 4 bytes at 0x100+, §4.2.2).

import type { VirtioConfigSpace } from './device.js';

export class ConfigBytes implements VirtioConfigSpace {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  /**
   * `onWrite` receives the driver's writes that fall inside the space (the device validates them and stores what
   * it accepts with the set* methods); without it the space is read-only and writes are dropped.
   */
  constructor(readonly size: number, private readonly onWrite: ((offset: number, width: 1 | 2 | 4, value: number) => void) | null = null) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  private inside(offset: number, width: number): boolean {
    return Number.isInteger(offset) && offset >= 0 && offset + width <= this.size;
  }

  // guest-controlled: offset and width.
  read(offset: number, width: 1 | 2 | 4): number {
    if (!this.inside(offset, width)) return 0;
    if (width === 1) return this.view.getUint8(offset);
    if (width === 2) return this.view.getUint16(offset, true);
    return this.view.getUint32(offset, true);
  }

  // guest-controlled: offset, width and value.
  write(offset: number, width: 1 | 2 | 4, value: number): void {
    if (this.inside(offset, width)) this.onWrite?.(offset, width, value >>> 0);
  }

  set8(offset: number, v: number): void { this.view.setUint8(offset, v); }
  set16(offset: number, v: number): void { this.view.setUint16(offset, v, true); }
  set32(offset: number, v: number): void { this.view.setUint32(offset, v >>> 0, true); }
  set64(offset: number, v: bigint): void { this.view.setBigUint64(offset, BigInt.asUintN(64, v), true); }
  get8(offset: number): number { return this.view.getUint8(offset); }
}
