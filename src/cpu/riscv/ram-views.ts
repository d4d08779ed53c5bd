// The CPU's own typed views of guest RAM (ARCHITECTURE.md "Core abstractions": memory is passed in, never owned):
// GuestMemory keeps its views to itself, so the hart, its page walk and the SBI build theirs once over the
// public `buffer`. Offsets are RAM offsets (paddr - base), checked by the caller with `ram.contains`.

import type { GuestMemory } from '../../memory/guest-memory.js';

export interface RamViews {
  readonly u8: Uint8Array;
  /** RAM as 16-bit units (instruction parcels); covers size/2 units. */
  readonly u16: Uint16Array;
  /** Little-endian accesses: always pass `true`. */
  readonly dv: DataView;
}

export function ramViews(ram: GuestMemory): RamViews {
  return {
    u8: new Uint8Array(ram.buffer, 0, ram.size),
    u16: new Uint16Array(ram.buffer, 0, ram.size / 2),
    dv: new DataView(ram.buffer, 0, ram.size),
  };
}
