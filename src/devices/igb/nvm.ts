// The 82576's NVM (EEPROM) as igb reads it (82576EB datasheet "Non-Volatile Memory Map"; Linux igb/e1000_nvm.c
// igb_read_nvm_eerd, igb_validate_nvm_checksum, e1000_82575.c igb_init_nvm_params_82575): EECD reports an EEPROM that
// is present, auto-read done, 256 words, and grants access on request; EERD reads one word per start (done at once);
// words 0-2 hold the MAC address and words 0x00-0x3F sum to 0xBABA. Writes are not modelled (the part reads as
// write-protected: igb never writes it in normal operation).

import {
  E1000_EECD_AUTO_RD, E1000_EECD_GNT, E1000_EECD_PRES, E1000_EECD_REQ, E1000_EECD_SIZE_EX_SHIFT, E1000_NVM_RW_ADDR_SHIFT,
  E1000_NVM_RW_REG_DATA, E1000_NVM_RW_REG_DONE, E1000_NVM_RW_REG_START, NVM_CHECKSUM_REG, NVM_SUM,
} from './defines.js';
import { E1000_DEV_ID_82576, E1000_DEV_ID_82576_VF, PCI_VENDOR_ID_INTEL } from './regs.js';

/** EECD.SIZE_EX = 2: 2^(2+6) = 256 words (igb_init_nvm_params_82575). */
const SIZE_EX = 2;
export const NVM_WORDS = 1 << (SIZE_EX + 6);

/** NVM words igb reads besides the MAC (e1000_defines.h names). */
const NVM_COMPAT = 0x03;
const NVM_ID_LED_SETTINGS = 0x04;
const NVM_VERSION = 0x05;
const NVM_PBA_0 = 0x08;
const NVM_PBA_1 = 0x09;
const NVM_INIT_CONTROL1 = 0x0a;
const NVM_SUB_DEV_ID = 0x0b;
const NVM_SUB_VEN_ID = 0x0c;
const NVM_DEV_ID = 0x0d;
const NVM_VEN_ID = 0x0e;
const NVM_INIT_CONTROL2 = 0x0f;
const NVM_ALT_MAC_ADDR_PTR = 0x37;
const NVM_VF_DEV_ID = 0x26;

/** A 256-word image: MAC, IDs, "no alternate MAC", and the checksum word that makes 0x00-0x3F sum to 0xBABA. */
export function nvmImage(mac: Uint8Array): Uint16Array {
  if (mac.length !== 6) throw new RangeError(`a MAC address has 6 octets, got ${mac.length}`);
  const w = new Uint16Array(NVM_WORDS).fill(0xffff);
  for (let i = 0; i < 3; i++) w[i] = mac[2 * i]! | (mac[2 * i + 1]! << 8);
  w[NVM_COMPAT] = 0x0000;
  w[NVM_ID_LED_SETTINGS] = 0xffff; // igb_id_led_init: all-ones means the default LED settings
  w[NVM_VERSION] = 0x1080; // 1.8, image 0
  w[NVM_PBA_0] = 0xe423; // a PBA number ("E42368-004" style), not the 0xFAFA pointer guard
  w[NVM_PBA_1] = 0x6804;
  w[NVM_INIT_CONTROL1] = 0x0000;
  w[NVM_SUB_DEV_ID] = 0x0000;
  w[NVM_SUB_VEN_ID] = PCI_VENDOR_ID_INTEL;
  w[NVM_DEV_ID] = E1000_DEV_ID_82576;
  w[NVM_VEN_ID] = PCI_VENDOR_ID_INTEL;
  w[NVM_INIT_CONTROL2] = 0x0000;
  w[0x24] = 0x0000; // INIT_CONTROL3 port A: no APM wake-up
  w[NVM_VF_DEV_ID] = E1000_DEV_ID_82576_VF;
  w[NVM_ALT_MAC_ADDR_PTR] = 0xffff;
  let sum = 0;
  for (let i = 0; i < NVM_CHECKSUM_REG; i++) sum = (sum + w[i]!) & 0xffff;
  w[NVM_CHECKSUM_REG] = (NVM_SUM - sum) & 0xffff;
  return w;
}

export class Nvm {
  private eerd = 0;
  private eecdReq = false;

  constructor(readonly words: Uint16Array) {}

  readEecd(): number {
    return E1000_EECD_PRES | E1000_EECD_AUTO_RD | (SIZE_EX << E1000_EECD_SIZE_EX_SHIFT)
      | (this.eecdReq ? E1000_EECD_REQ | E1000_EECD_GNT : 0);
  }

  // guest-controlled: only the request bit does anything (access is granted at once).
  writeEecd(v: number): void { this.eecdReq = (v & E1000_EECD_REQ) !== 0; }

  readEerd(): number { return this.eerd; }

  // guest-controlled: any word address; past the end reads as all-ones.
  writeEerd(v: number): void {
    const addr = (v >>> E1000_NVM_RW_ADDR_SHIFT) & 0x3fff;
    if ((v & E1000_NVM_RW_REG_START) === 0) { this.eerd = (addr << E1000_NVM_RW_ADDR_SHIFT) >>> 0; return; }
    const data = addr < NVM_WORDS ? this.words[addr]! : 0xffff;
    this.eerd = ((data << E1000_NVM_RW_REG_DATA) | (addr << E1000_NVM_RW_ADDR_SHIFT) | E1000_NVM_RW_REG_DONE) >>> 0;
  }

  /** The MAC address in words 0-2. */
  mac(): Uint8Array {
    const w = this.words;
    return Uint8Array.of(w[0]! & 0xff, w[0]! >>> 8, w[1]! & 0xff, w[1]! >>> 8, w[2]! & 0xff, w[2]! >>> 8);
  }

  reset(): void { this.eerd = 0; this.eecdReq = false; }
}
