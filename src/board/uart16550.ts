// 16550A UART as driven by Linux's 8250 driver ("ns16550a", reg-shift 0, reg-io-width 1); register and bit names
// from include/uapi/linux/serial_reg.h, behaviour from the 16550A datasheet (FIFOs, IIR priorities) and QEMU's
// serial model (THRE interrupt re-armed on the rising edge of IER.THRI). Registers are one byte wide (reg-io-width 1):
// wider or misaligned accesses are refused by the register table (read 0, write dropped, counted).

import { RegisterTable } from '../memory/register-table.js';
import type { Resettable } from '../devices/device.js';
import type { IrqLine } from './irq.js';

// Register offsets (reg-shift 0).
export const UART_RX = 0;   // RBR (read, DLAB=0)
export const UART_TX = 0;   // THR (write, DLAB=0)
export const UART_DLL = 0;  // divisor latch low (DLAB=1)
export const UART_IER = 1;
export const UART_DLM = 1;  // divisor latch high (DLAB=1)
export const UART_IIR = 2;  // read
export const UART_FCR = 2;  // write
export const UART_LCR = 3;
export const UART_MCR = 4;
export const UART_LSR = 5;
export const UART_MSR = 6;
export const UART_SCR = 7;

export const UART_IER_RDI = 0x01;
export const UART_IER_THRI = 0x02;
export const UART_IER_RLSI = 0x04;
export const UART_IER_MSI = 0x08;

export const UART_IIR_NO_INT = 0x01;
export const UART_IIR_MSI = 0x00;
export const UART_IIR_THRI = 0x02;
export const UART_IIR_RDI = 0x04;
export const UART_IIR_RLSI = 0x06;
export const UART_IIR_RX_TIMEOUT = 0x0c;
export const UART_IIR_FIFO_ENABLED_16550A = 0xc0;

export const UART_FCR_ENABLE_FIFO = 0x01;
export const UART_FCR_CLEAR_RCVR = 0x02;
export const UART_FCR_CLEAR_XMIT = 0x04;
export const UART_FCR_R_TRIG_MASK = 0xc0;

export const UART_LCR_DLAB = 0x80;

export const UART_MCR_DTR = 0x01;
export const UART_MCR_RTS = 0x02;
export const UART_MCR_OUT1 = 0x04;
export const UART_MCR_OUT2 = 0x08;
export const UART_MCR_LOOP = 0x10;

export const UART_LSR_DR = 0x01;
export const UART_LSR_OE = 0x02;
export const UART_LSR_PE = 0x04;
export const UART_LSR_FE = 0x08;
export const UART_LSR_BI = 0x10;
export const UART_LSR_THRE = 0x20;
export const UART_LSR_TEMT = 0x40;
export const UART_LSR_BRK_ERROR_BITS = UART_LSR_BI | UART_LSR_FE | UART_LSR_PE | UART_LSR_OE;

export const UART_MSR_DCTS = 0x01;
export const UART_MSR_DDSR = 0x02;
export const UART_MSR_TERI = 0x04;
export const UART_MSR_DDCD = 0x08;
export const UART_MSR_CTS = 0x10;
export const UART_MSR_DSR = 0x20;
export const UART_MSR_RI = 0x40;
export const UART_MSR_DCD = 0x80;
export const UART_MSR_ANY_DELTA = UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_TERI | UART_MSR_DDCD;

/** Size of the MMIO window on the virt board (only the first 8 bytes are registers). */
export const UART16550_MMIO_SIZE = 0x100;
/** RX/TX FIFO depth of a 16550A. */
export const UART_FIFO_SIZE = 16;
/** `clock-frequency` of the virt board's UART (QEMU: 3.6864 MHz). */
export const UART_CLOCK_HZ = 0x384000;

/**
 * LSR reads in a row with the RX FIFO empty and no THR write between them after which the guest counts as a
 * polling reader (a getchar loop in firmware or a boot loader). Linux's console output also polls LSR, but writes
 * THR after every poll (THRE is always set here), so it never gets there.
 */
export const UART_POLLING_READER_POLLS = 64;

/** RX trigger levels selected by FCR bits 7:6 (16550A datasheet). */
const RX_TRIGGER = [1, 4, 8, 14] as const;

/** Power-on values: 9600 baud at 1.8432 MHz (harmless), and the modem inputs of a connected terminal. */
const RESET_DLL = 0x0c;
const RESET_MSR = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;

export class Uart16550 implements Resettable {
  /** The guest's view: eight one-byte registers, names from the 16550A datasheet (two per offset where DLAB or direction selects). */
  readonly mmio: RegisterTable;

  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private dll = RESET_DLL;
  private dlm = 0;
  private fcr = 0;
  /** LSR error bits (OE, PE, FE, BI) latched until LSR is read. */
  private lsrErrors = 0;
  /** MSR: current modem input lines (bits 7:4) and deltas (bits 3:0). */
  private msr = RESET_MSR;
  /** THR-empty interrupt pending (cleared by reading IIR when it is the source, or by writing THR). */
  private thrIpending = false;
  private readonly rx = new Uint8Array(UART_FIFO_SIZE);
  private rxHead = 0;
  /** Per FIFO slot: 1 when the byte came from the host (not from loopback). */
  private readonly rxFromHost = new Uint8Array(UART_FIFO_SIZE);
  private rxCount = 0;
  private irqLevel = false;
  /** LSR reads in a row with the RX FIFO empty and no THR write (saturates at UART_POLLING_READER_POLLS). */
  private emptyPolls = 0;

  /** Counters a test or report can read (statistics: kept across reset). */
  txBytes = 0;
  rxBytes = 0;
  overruns = 0;

  constructor(private readonly irq: IrqLine, private readonly txSink: (byte: number) => void) {
    // Side effects as coalesced MMIO would see them: a register whose write raises or drops the interrupt (IER,
    // MCR through MSR deltas) or moves data (THR, FCR) is not plain; LCR and SCR only store.
    this.mmio = new RegisterTable('uart16550', [
      { name: 'RBR_THR_DLL', offset: UART_RX, width: 1, sideEffects: 'both', read: () => this.readRbr(), write: (v) => this.writeThr(v) },
      { name: 'IER_DLM', offset: UART_IER, width: 1, sideEffects: 'write', read: () => this.dlab ? this.dlm : this.ier, write: (v) => this.writeIer(v) },
      { name: 'IIR_FCR', offset: UART_IIR, width: 1, sideEffects: 'both', read: () => this.readIir(), write: (v) => this.writeFcr(v) },
      { name: 'LCR', offset: UART_LCR, width: 1, sideEffects: 'none', read: () => this.lcr, write: (v) => { this.lcr = v; } },
      { name: 'MCR', offset: UART_MCR, width: 1, sideEffects: 'write', read: () => this.mcr, write: (v) => this.writeMcr(v) },
      // LSR and MSR are read-only: writes are dropped.
      { name: 'LSR', offset: UART_LSR, width: 1, sideEffects: 'read', read: () => this.readLsr() },
      { name: 'MSR', offset: UART_MSR, width: 1, sideEffects: 'read', read: () => this.readMsr() },
      { name: 'SCR', offset: UART_SCR, width: 1, sideEffects: 'none', read: () => this.scr, write: (v) => { this.scr = v; } },
    ]);
  }

  /** Power-on state: registers, FIFO and pending interrupts cleared, the IRQ line dropped. Host-side counters stay. */
  reset(): void {
    this.ier = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.scr = 0;
    this.dll = RESET_DLL;
    this.dlm = 0;
    this.fcr = 0;
    this.lsrErrors = 0;
    this.msr = RESET_MSR;
    this.thrIpending = false;
    this.clearRx();
    this.emptyPolls = 0;
    this.updateIrq();
  }

  private get dlab(): boolean { return (this.lcr & UART_LCR_DLAB) !== 0; }

  private get fifoEnabled(): boolean { return (this.fcr & UART_FCR_ENABLE_FIFO) !== 0; }
  private get rxCapacity(): number { return this.fifoEnabled ? UART_FIFO_SIZE : 1; }
  private get loopback(): boolean { return (this.mcr & UART_MCR_LOOP) !== 0; }

  /** True while the guest driver listens for input (IER.RDI set); bytes sent before that would be flushed. */
  get rxInterruptEnabled(): boolean { return (this.ier & UART_IER_RDI) !== 0; }

  /**
   * True while the guest polls for input without interrupts: it has read LSR UART_POLLING_READER_POLLS times in a
   * row with the RX FIFO empty and no THR write between them. Input arriving starts the count again.
   */
  get pollingReader(): boolean { return this.emptyPolls >= UART_POLLING_READER_POLLS; }

  /** Host input: true while the RX FIFO (or holding register) has room and the UART is not in loopback. */
  canReceive(): boolean {
    return !this.loopback && this.rxCount < this.rxCapacity;
  }

  /** Host input of one byte; false (byte not taken) when there is no room. Never overruns. */
  receive(byte: number): boolean {
    if (!this.canReceive()) return false;
    this.pushRx(byte & 0xff, true);
    this.updateIrq();
    return true;
  }

  private pushRx(byte: number, fromHost = false): void {
    this.emptyPolls = 0;
    if (this.rxCount >= this.rxCapacity) {
      this.lsrErrors |= UART_LSR_OE;
      this.overruns++;
      return;
    }
    this.rxFromHost[(this.rxHead + this.rxCount) % UART_FIFO_SIZE] = fromHost ? 1 : 0;
    this.rx[(this.rxHead + this.rxCount) % UART_FIFO_SIZE] = byte;
    this.rxCount++;
    this.rxBytes++;
  }

  private popRx(): number {
    if (this.rxCount === 0) return 0;
    const b = this.rx[this.rxHead]!;
    this.rxHead = (this.rxHead + 1) % UART_FIFO_SIZE;
    this.rxCount--;
    return b;
  }

  /**
   * Host input the guest flushed unread (FCR CLEAR_RCVR, a FIFO mode change, a reset) goes back to the host, in
   * order: Linux's 8250 driver flushes the FIFO whenever it (re)starts the port, and a byte typed a moment too
   * early would otherwise be lost — a real terminal's user would type it again.
   */
  onFlushUnread: ((bytes: Uint8Array) => void) | null = null;

  private clearRx(): void {
    if (this.rxCount > 0 && this.onFlushUnread !== null) {
      const unread: number[] = [];
      for (let i = 0; i < this.rxCount; i++) {
        const k = (this.rxHead + i) % UART_FIFO_SIZE;
        if (this.rxFromHost[k] === 1) unread.push(this.rx[k]!); // loopback bytes were the guest's own
      }
      if (unread.length > 0) this.onFlushUnread(Uint8Array.from(unread));
    }
    this.rxHead = 0;
    this.rxCount = 0;
  }

  private lsr(): number {
    // Transmission is instantaneous, so THR and the shift register are always empty.
    let v = UART_LSR_THRE | UART_LSR_TEMT | this.lsrErrors;
    if (this.rxCount > 0) v |= UART_LSR_DR;
    return v;
  }

  /** The interrupt the IIR reports now, by 16550 priority; UART_IIR_NO_INT when none. */
  private pendingInterrupt(): number {
    const ier = this.ier;
    if ((ier & UART_IER_RLSI) !== 0 && (this.lsrErrors & UART_LSR_BRK_ERROR_BITS) !== 0) return UART_IIR_RLSI;
    if ((ier & UART_IER_RDI) !== 0 && this.rxCount > 0) {
      if (!this.fifoEnabled) return UART_IIR_RDI;
      const trigger = RX_TRIGGER[(this.fcr & UART_FCR_R_TRIG_MASK) >> 6]!;
      // The host delivers no further byte within four character times, so data below the trigger level
      // is reported as a character timeout at once.
      return this.rxCount >= trigger ? UART_IIR_RDI : UART_IIR_RX_TIMEOUT;
    }
    if ((ier & UART_IER_THRI) !== 0 && this.thrIpending) return UART_IIR_THRI;
    if ((ier & UART_IER_MSI) !== 0 && (this.msr & UART_MSR_ANY_DELTA) !== 0) return UART_IIR_MSI;
    return UART_IIR_NO_INT;
  }

  private updateIrq(): void {
    const level = this.pendingInterrupt() !== UART_IIR_NO_INT;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }

  /** In loopback the modem inputs follow the outputs: CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2. */
  private setModemInputs(lines: number): void {
    const old = this.msr & 0xf0;
    let delta = 0;
    if (((old ^ lines) & UART_MSR_CTS) !== 0) delta |= UART_MSR_DCTS;
    if (((old ^ lines) & UART_MSR_DSR) !== 0) delta |= UART_MSR_DDSR;
    if (((old ^ lines) & UART_MSR_DCD) !== 0) delta |= UART_MSR_DDCD;
    if ((old & UART_MSR_RI) !== 0 && (lines & UART_MSR_RI) === 0) delta |= UART_MSR_TERI;
    this.msr = lines | (this.msr & UART_MSR_ANY_DELTA) | delta;
  }

  private loopbackInputs(mcr: number): number {
    let v = 0;
    if ((mcr & UART_MCR_RTS) !== 0) v |= UART_MSR_CTS;
    if ((mcr & UART_MCR_DTR) !== 0) v |= UART_MSR_DSR;
    if ((mcr & UART_MCR_OUT1) !== 0) v |= UART_MSR_RI;
    if ((mcr & UART_MCR_OUT2) !== 0) v |= UART_MSR_DCD;
    return v;
  }

  // guest-controlled: every handler below takes a value the guest wrote, already cut to one byte by the table.

  private readRbr(): number {
    if (this.dlab) return this.dll;
    const b = this.popRx();
    this.updateIrq();
    return b;
  }

  private writeThr(v: number): void {
    if (this.dlab) { this.dll = v; return; }
    this.emptyPolls = 0;
    this.thrIpending = false;
    this.txBytes++;
    if (this.loopback) this.pushRx(v);
    else this.txSink(v);
    // The byte left at once: THR is empty again, which is a new THRE event.
    this.thrIpending = true;
    this.updateIrq();
  }

  private writeIer(v: number): void {
    if (this.dlab) { this.dlm = v; return; }
    const old = this.ier;
    this.ier = v & 0x0f;
    if (((old ^ this.ier) & UART_IER_THRI) !== 0) {
      // Rising edge of THRI with THR empty raises the THRE interrupt (Linux's THRE test relies on it).
      this.thrIpending = (this.ier & UART_IER_THRI) !== 0;
    }
    this.updateIrq();
  }

  private readIir(): number {
    const id = this.pendingInterrupt();
    if (id === UART_IIR_THRI) {
      this.thrIpending = false;
      this.updateIrq();
    }
    return id | (this.fifoEnabled ? UART_IIR_FIFO_ENABLED_16550A : 0);
  }

  private writeFcr(v: number): void {
    const enableChanged = ((this.fcr ^ v) & UART_FCR_ENABLE_FIFO) !== 0;
    if (enableChanged || (v & UART_FCR_CLEAR_RCVR) !== 0) this.clearRx();
    // The TX FIFO is always empty (instant transmission), so CLEAR_XMIT has nothing to drop.
    this.fcr = v & (UART_FCR_ENABLE_FIFO | UART_FCR_R_TRIG_MASK);
    this.updateIrq();
  }

  private writeMcr(v: number): void {
    const wasLoop = this.loopback;
    this.mcr = v & 0x1f;
    if (this.loopback) this.setModemInputs(this.loopbackInputs(this.mcr));
    else if (wasLoop) this.setModemInputs(RESET_MSR);
    this.updateIrq();
  }

  private readLsr(): number {
    if (this.rxCount === 0) {
      if (this.emptyPolls < UART_POLLING_READER_POLLS) this.emptyPolls++;
    }
    const v = this.lsr();
    if (this.lsrErrors !== 0) {
      this.lsrErrors = 0;
      this.updateIrq();
    }
    return v;
  }

  private readMsr(): number {
    const v = this.msr;
    if ((v & UART_MSR_ANY_DELTA) !== 0) {
      this.msr &= ~UART_MSR_ANY_DELTA;
      this.updateIrq();
    }
    return v;
  }
}
