// The 82540EM's serial EEPROM (8254x SDM §5.6 "EEPROM Interface", §13.4.3 EECD, §13.4.4 EERD): a 64-word Microwire
// part (93C46) that software reads either by bit-banging EECD (Linux 6.12 e1000_hw.c e1000_do_read_eeprom: acquire,
// shift out opcode 110b and a 6-bit address, shift in 16 bits, standby) or through the EERD read register. Contents
// follow the SDM's address map: MAC address in words 0..2, PCI IDs in 0x0b..0x0e, init control words, and word 0x3f
// chosen so that words 0..0x3f sum to 0xBABA (e1000_validate_eeprom_checksum). Writes are not supported: the part is
// write-protected (EECD.FWE reads "flash writes disabled") and a write command is clocked in and ignored.

import {
  E1000_DEV_ID_82540EM, E1000_EECD_CS, E1000_EECD_DI, E1000_EECD_DO, E1000_EECD_FWE_DIS, E1000_EECD_FWE_MASK,
  E1000_EECD_GNT, E1000_EECD_PRES, E1000_EECD_REQ, E1000_EECD_SK, EEPROM_ADDRESS_BITS, EEPROM_CHECKSUM_REG,
  EEPROM_DEVICE_ID, EEPROM_ID_LED_SETTINGS, EEPROM_INIT_CONTROL1_REG, EEPROM_INIT_CONTROL2_REG,
  EEPROM_INIT_CONTROL3_PORT_A, EEPROM_READ_OPCODE_MICROWIRE, EEPROM_SUBSYSTEM_ID, EEPROM_SUBSYSTEM_VENDOR_ID,
  EEPROM_SUM, EEPROM_VENDOR_ID, EEPROM_WORD_SIZE, PCI_VENDOR_ID_INTEL,
} from './regs.js';

/** Subsystem of Intel's "PRO/1000 MT Desktop Adapter" (the 82540EM board). */
export const E1000_SUBSYSTEM_ID = 0x001e;
/** EEPROM word 0x0a: bits 15:14 = 01b mark a valid image (SDM Table 5-2, "Initialization Control Word 1"). */
const INIT_CONTROL1_SIGNATURE = 0x4000;
/** Opcode bits of a Microwire command (e1000_init_eeprom_params: opcode_bits = 3). */
const OPCODE_BITS = 3;

/** The 64 words of an EEPROM image for `mac`, with a valid checksum. */
export function eepromImage(mac: Uint8Array): Uint16Array {
  if (mac.length !== 6) throw new RangeError(`e1000: a MAC address has 6 bytes, got ${mac.length}`);
  const w = new Uint16Array(EEPROM_WORD_SIZE);
  for (let i = 0; i < 3; i++) w[i] = mac[2 * i]! | (mac[2 * i + 1]! << 8);
  w[EEPROM_ID_LED_SETTINGS] = 0xffff; // "reserved": the driver falls back to ID_LED_DEFAULT
  w[EEPROM_INIT_CONTROL1_REG] = INIT_CONTROL1_SIGNATURE;
  w[EEPROM_SUBSYSTEM_ID] = E1000_SUBSYSTEM_ID;
  w[EEPROM_SUBSYSTEM_VENDOR_ID] = PCI_VENDOR_ID_INTEL;
  w[EEPROM_DEVICE_ID] = E1000_DEV_ID_82540EM;
  w[EEPROM_VENDOR_ID] = PCI_VENDOR_ID_INTEL;
  w[EEPROM_INIT_CONTROL2_REG] = 0x0000; // no PAUSE advertised: vmio sends no flow-control frames
  w[EEPROM_INIT_CONTROL3_PORT_A] = 0x0000; // APM (wake on LAN) off
  let sum = 0;
  for (let i = 0; i < EEPROM_CHECKSUM_REG; i++) sum = (sum + w[i]!) & 0xffff;
  w[EEPROM_CHECKSUM_REG] = (EEPROM_SUM - sum) & 0xffff;
  return w;
}

/**
 * EECD and the Microwire state machine behind it. Data is sampled on rising edges of SK while CS is high; CS low
 * resets the part (standby). After a READ opcode and address the part drives a dummy 0 and then D15..D0, one bit per
 * rising edge, continuing with the next word (sequential read) for as long as CS stays high.
 */
export class Eeprom {
  /** The bits software drives (SK, CS, DI, FWE, REQ); DO, GNT and PRES are the device's. */
  private driven = E1000_EECD_FWE_DIS;
  private bitsIn = 0;
  private shiftIn = 0;
  private reading = false;
  private address = 0;
  private outBit = -1;
  private dataOut = 0;
  /** Microwire commands clocked in that were not READ (writes to a write-protected part). */
  ignoredCommands = 0;

  constructor(readonly words: Uint16Array) {}

  /** Back to the state after power-on (also what a device reset does). */
  reset(): void {
    this.driven = E1000_EECD_FWE_DIS;
    this.standby();
  }

  private standby(): void {
    this.bitsIn = 0;
    this.shiftIn = 0;
    this.reading = false;
    this.outBit = -1;
    this.dataOut = 0;
  }

  read(): number {
    const gnt = (this.driven & E1000_EECD_REQ) !== 0 ? E1000_EECD_GNT : 0;
    return (this.driven & ~E1000_EECD_DO) | (this.dataOut !== 0 ? E1000_EECD_DO : 0) | gnt | E1000_EECD_PRES;
  }

  // guest-controlled: any 32-bit value; only SK, CS, DI, REQ and FWE are taken.
  write(v: number): void {
    const keep = E1000_EECD_SK | E1000_EECD_CS | E1000_EECD_DI | E1000_EECD_REQ | E1000_EECD_FWE_MASK;
    const old = this.driven;
    this.driven = v & keep;
    if ((this.driven & E1000_EECD_CS) === 0) { this.standby(); return; }
    const rising = (old & E1000_EECD_SK) === 0 && (this.driven & E1000_EECD_SK) !== 0;
    if (rising) this.clock((this.driven & E1000_EECD_DI) !== 0 ? 1 : 0);
  }

  private clock(di: number): void {
    if (this.reading) {
      if (this.outBit < 0) { this.address = (this.address + 1) % this.words.length; this.outBit = 15; }
      this.dataOut = (this.words[this.address]! >> this.outBit) & 1;
      this.outBit--;
      return;
    }
    // A command starts with its first 1 bit (the start bit is part of Linux's 3-bit opcode 110b).
    if (this.bitsIn === 0 && di === 0) return;
    this.shiftIn = (this.shiftIn << 1) | di;
    this.bitsIn++;
    if (this.bitsIn < OPCODE_BITS + EEPROM_ADDRESS_BITS) return;
    const opcode = this.shiftIn >> EEPROM_ADDRESS_BITS;
    if (opcode === EEPROM_READ_OPCODE_MICROWIRE) {
      this.reading = true;
      this.address = this.shiftIn & ((1 << EEPROM_ADDRESS_BITS) - 1);
      this.outBit = 15;
      this.dataOut = 0; // the dummy bit
    } else {
      this.ignoredCommands++;
      this.bitsIn = 0; // wait for CS to drop
      this.shiftIn = 0;
      this.reading = false;
    }
  }

  /** EERD: the word at `address`, or 0xffff past the end of the part (as an unprogrammed cell reads). */
  word(address: number): number {
    return address < this.words.length ? this.words[address]! : 0xffff;
  }
}
