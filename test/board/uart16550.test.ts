// Unit tests for the 16550A UART: FIFOs, IIR priorities, the THRE interrupt, loopback, byte-wide registers, reset,
// the polling-reader detection, guest-garbage tolerance.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Uart16550, UART_IER, UART_IIR, UART_FCR, UART_LCR, UART_LSR, UART_MCR, UART_MSR, UART_SCR, UART_RX, UART_TX,
  UART_IER_RDI, UART_IER_THRI, UART_IER_RLSI, UART_IER_MSI, UART_IIR_NO_INT, UART_IIR_THRI, UART_IIR_RDI,
  UART_IIR_RLSI, UART_IIR_RX_TIMEOUT, UART_IIR_MSI, UART_FCR_ENABLE_FIFO, UART_FCR_CLEAR_RCVR, UART_LCR_DLAB,
  UART_LSR_DR, UART_LSR_OE, UART_DLL, UART_LSR_THRE, UART_LSR_TEMT, UART_MCR_LOOP, UART_MCR_RTS, UART_MCR_DTR, UART_MCR_OUT2,
  UART_MSR_CTS, UART_MSR_DSR, UART_MSR_DCD, UART_MSR_DCTS, UART_FIFO_SIZE, UART_POLLING_READER_POLLS,
} from '../../src/board/uart16550.js';
import { RecordingLine } from '../../src/board/testing/recorders.js';
import { seededRandom } from '../../src/board/testing/random.js';

function make() {
  const line = new RecordingLine();
  const out: number[] = [];
  const u = new Uart16550(line, (b) => out.push(b));
  return { u, line, out };
}
const iir = (u: Uart16550) => (u.mmio.read(UART_IIR, 1) as number) & 0x0f;

test('THR writes go to the sink at once and LSR shows THRE|TEMT', () => {
  const { u, out } = make();
  for (const c of 'hi\n') u.mmio.write(UART_TX, 1, c.charCodeAt(0));
  assert.deepEqual(out, [0x68, 0x69, 0x0a]);
  assert.equal((u.mmio.read(UART_LSR, 1) as number) & (UART_LSR_THRE | UART_LSR_TEMT), UART_LSR_THRE | UART_LSR_TEMT);
});

test('THRE interrupt: raised on IER.THRI rising edge, cleared by reading IIR, re-raised by the next THR write', () => {
  const { u, line } = make();
  assert.equal(iir(u), UART_IIR_NO_INT);
  u.mmio.write(UART_IER, 1, UART_IER_THRI);
  assert.equal(line.level, true);
  assert.equal(iir(u), UART_IIR_THRI);   // reading IIR with THRI reported clears it
  assert.equal(line.level, false);
  assert.equal(iir(u), UART_IIR_NO_INT);
  // Linux's THRE test: IER=0 then IER=THRI again must re-assert it.
  u.mmio.write(UART_IER, 1, 0);
  u.mmio.write(UART_IER, 1, UART_IER_THRI);
  assert.equal(iir(u), UART_IIR_THRI);
  // Rewriting THRI while already set does not re-raise it.
  u.mmio.write(UART_IER, 1, UART_IER_THRI);
  assert.equal(iir(u), UART_IIR_NO_INT);
  // Writing THR: the byte leaves, THR is empty again, a new THRE event.
  u.mmio.write(UART_TX, 1, 0x41);
  assert.equal(line.level, true);
  u.mmio.write(UART_IER, 1, 0);
  assert.equal(line.level, false);
});

test('RX without FIFO: one holding byte, DR, RDI interrupt, canReceive backpressure', () => {
  const { u, line } = make();
  u.mmio.write(UART_IER, 1, UART_IER_RDI);
  assert.equal(u.canReceive(), true);
  assert.equal(u.receive(0x31), true);
  assert.equal(u.canReceive(), false);
  assert.equal(u.receive(0x32), false);
  assert.equal(line.level, true);
  assert.equal(iir(u), UART_IIR_RDI);
  assert.equal((u.mmio.read(UART_LSR, 1) as number) & UART_LSR_DR, UART_LSR_DR);
  assert.equal(u.mmio.read(UART_RX, 1), 0x31);
  assert.equal(line.level, false);
  assert.equal((u.mmio.read(UART_LSR, 1) as number) & (UART_LSR_DR | UART_LSR_OE), 0);
});

test('RX FIFO: 16 bytes, trigger level gives RDI, below it a character timeout; IIR reports FIFOs enabled', () => {
  const { u } = make();
  u.mmio.write(UART_FCR, 1, UART_FCR_ENABLE_FIFO | 0x80); // trigger 8
  u.mmio.write(UART_IER, 1, UART_IER_RDI);
  assert.equal((u.mmio.read(UART_IIR, 1) as number) & 0xc0, 0xc0);
  let n = 0;
  while (u.canReceive()) { assert.equal(u.receive(0x40 + n), true); n++; }
  assert.equal(n, UART_FIFO_SIZE);
  assert.equal(iir(u), UART_IIR_RDI);
  for (let i = 0; i < 9; i++) assert.equal(u.mmio.read(UART_RX, 1), 0x40 + i);
  assert.equal(iir(u), UART_IIR_RX_TIMEOUT); // 7 left, below trigger 8
  for (let i = 9; i < 16; i++) assert.equal(u.mmio.read(UART_RX, 1), 0x40 + i);
  assert.equal(iir(u), UART_IIR_NO_INT);
  u.receive(1); u.receive(2);
  u.mmio.write(UART_FCR, 1, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
  assert.equal((u.mmio.read(UART_LSR, 1) as number) & UART_LSR_DR, 0);
});

test('IIR priority: line status > RX data > THRE > modem status', () => {
  const { u } = make();
  u.mmio.write(UART_IER, 1, UART_IER_RDI | UART_IER_THRI | UART_IER_RLSI | UART_IER_MSI);
  u.mmio.write(UART_MCR, 1, UART_MCR_LOOP);       // modem inputs change -> MSR deltas
  u.mmio.write(UART_MCR, 1, UART_MCR_LOOP | UART_MCR_RTS);
  u.mmio.write(UART_TX, 1, 0x55);                   // loops back into RX; THRE pending again
  u.mmio.write(UART_TX, 1, 0x56);                   // no FIFO: overrun -> OE
  assert.equal(iir(u), UART_IIR_RLSI);
  assert.equal((u.mmio.read(UART_LSR, 1) as number) & UART_LSR_OE, UART_LSR_OE); // reading LSR clears OE
  assert.equal(iir(u), UART_IIR_RDI);
  assert.equal(u.mmio.read(UART_RX, 1), 0x55);
  assert.equal(iir(u), UART_IIR_THRI);
  assert.equal(iir(u), UART_IIR_MSI);
  assert.equal((u.mmio.read(UART_MSR, 1) as number) & UART_MSR_DCTS, UART_MSR_DCTS);
  assert.equal(iir(u), UART_IIR_NO_INT);
});

test('loopback: TX goes to RX not the sink, MSR follows MCR, host input is refused', () => {
  const { u, out } = make();
  u.mmio.write(UART_FCR, 1, UART_FCR_ENABLE_FIFO);
  u.mmio.write(UART_MCR, 1, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
  assert.equal((u.mmio.read(UART_MSR, 1) as number) & 0xf0, UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
  u.mmio.write(UART_MCR, 1, UART_MCR_LOOP);
  assert.equal((u.mmio.read(UART_MSR, 1) as number) & 0xf0, 0);
  assert.equal(u.canReceive(), false);
  u.mmio.write(UART_TX, 1, 0x5a);
  assert.deepEqual(out, []);
  assert.equal(u.mmio.read(UART_RX, 1), 0x5a);
  u.mmio.write(UART_MCR, 1, 0);
  assert.equal(u.canReceive(), true);
  u.mmio.write(UART_TX, 1, 0x5b);
  assert.deepEqual(out, [0x5b]);
});

test('DLAB selects the divisor latch; LCR, SCR keep their values', () => {
  const { u, out } = make();
  u.mmio.write(UART_LCR, 1, UART_LCR_DLAB | 3);
  u.mmio.write(UART_TX, 1, 0x01);
  u.mmio.write(UART_IER, 1, 0x02);
  assert.equal(u.mmio.read(UART_RX, 1), 0x01);
  assert.equal(u.mmio.read(UART_IER, 1), 0x02);
  u.mmio.write(UART_LCR, 1, 3);
  assert.equal(u.mmio.read(UART_IER, 1), 0);
  assert.deepEqual(out, []);
  u.mmio.write(UART_SCR, 1, 0xa5);
  assert.equal(u.mmio.read(UART_SCR, 1), 0xa5);
  assert.equal(u.mmio.read(UART_LCR, 1), 3);
});

test('any offset, width and value is handled without throwing; everything but a byte access to 0..7 is refused', () => {
  const { u, out } = make();
  const rnd = seededRandom(7);
  let wrong = 0;
  for (let i = 0; i < 5000; i++) {
    const off = rnd() % 0x100;
    const width = ([1, 2, 4, 8] as const)[rnd() % 4]!;
    if (off >= 8 || width !== 1) wrong++;
    if (rnd() & 1) u.mmio.write(off, width, rnd() % 3 === 0 ? BigInt(rnd()) << 20n : rnd());
    else {
      const v = u.mmio.read(off, width);
      assert.ok(typeof v === (width === 8 ? 'bigint' : 'number') && v >= 0 && v <= 0xff);
    }
  }
  assert.ok(wrong > 4000);
  assert.equal(u.mmio.refused, wrong);
  // After all that, a reset UART transmits again.
  u.reset();
  out.length = 0;
  u.mmio.write(UART_TX, 1, 0x21);
  assert.deepEqual(out, [0x21]);
});

test('registers are one byte wide: wider accesses are refused and have no side effect', () => {
  const { u, out } = make();
  assert.equal(u.receive(0x41), true);
  assert.equal(u.mmio.read(UART_RX, 4), 0);       // not a pop
  assert.equal(u.mmio.read(UART_RX, 2), 0);
  u.mmio.write(UART_TX, 2, 0x4242);                // not a transmit
  u.mmio.write(UART_SCR, 8, 0xffn);
  assert.equal(u.mmio.refused, 4);
  assert.deepEqual(out, []);
  assert.equal(u.mmio.read(UART_SCR, 1), 0);
  assert.equal(u.mmio.read(UART_RX, 1), 0x41);
  assert.equal(u.mmio.read(UART_LSR + 8, 1), 0);   // past SCR: nothing
  assert.equal(u.mmio.refused, 5);
});

test('register names come from the table', () => {
  const { u } = make();
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((o) => u.mmio.registerName(o)),
    ['RBR_THR_DLL', 'IER_DLM', 'IIR_FCR', 'LCR', 'MCR', 'LSR', 'MSR', 'SCR', undefined]);
  // Coalescable writes: only the ones that store a value and do nothing else.
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((o) => u.mmio.writeIsPlain(o)), [false, false, false, true, false, true, true, true]);
});

test('reset returns every register to its power-on value and drops the interrupt', () => {
  const { u, line, out } = make();
  const fresh = make().u;
  const snapshot = (x: Uart16550) => {
    const regs: number[] = [];
    for (const off of [UART_IER, UART_LCR, UART_MCR, UART_SCR]) regs.push(x.mmio.read(off, 1) as number);
    regs.push(x.mmio.read(UART_LSR, 1) as number, x.mmio.read(UART_MSR, 1) as number, x.mmio.read(UART_IIR, 1) as number);
    x.mmio.write(UART_LCR, 1, UART_LCR_DLAB);
    regs.push(x.mmio.read(UART_RX, 1) as number, x.mmio.read(UART_IER, 1) as number);
    x.mmio.write(UART_LCR, 1, 0);
    return regs;
  };
  const powerOn = snapshot(fresh);
  u.mmio.write(UART_LCR, 1, UART_LCR_DLAB);
  u.mmio.write(UART_TX, 1, 0x99);
  u.mmio.write(UART_IER, 1, 0x77);
  u.mmio.write(UART_LCR, 1, 0x1b);
  u.mmio.write(UART_FCR, 1, UART_FCR_ENABLE_FIFO | 0xc0);
  u.mmio.write(UART_IER, 1, UART_IER_RDI | UART_IER_THRI | UART_IER_MSI);
  u.mmio.write(UART_MCR, 1, UART_MCR_LOOP);
  u.mmio.write(UART_SCR, 1, 0x5a);
  u.mmio.write(UART_TX, 1, 0x31); // loops back: RX data
  assert.equal(line.level, true);
  assert.notDeepEqual(snapshot(u), powerOn);
  u.reset();
  assert.equal(line.level, false);
  assert.deepEqual(snapshot(u), powerOn);
  assert.equal((u.mmio.read(UART_LSR, 1) as number) & UART_LSR_DR, 0); // the FIFO is empty
  assert.equal(u.canReceive(), true);
  assert.equal(u.receive(0x32), true);
  assert.equal(u.canReceive(), false); // FIFOs off again: one holding byte
  u.mmio.write(UART_TX, 1, 0x33);
  assert.deepEqual(out, [0x33]);       // not in loopback any more
  assert.equal(u.rxInterruptEnabled, false);
});

const getcharPolls = (u: Uart16550, n: number) => {
  for (let i = 0; i < n; i++) if (((u.mmio.read(UART_LSR, 1) as number) & UART_LSR_DR) !== 0) return u.mmio.read(UART_RX, 1) as number;
  return -1;
};

test('a guest polling LSR for input (getchar loop) becomes a polling reader; input starts the count again', () => {
  const { u } = make();
  assert.equal(u.pollingReader, false);
  assert.equal(getcharPolls(u, UART_POLLING_READER_POLLS - 1), -1);
  assert.equal(u.pollingReader, false);
  assert.equal(getcharPolls(u, 1), -1);
  assert.equal(u.pollingReader, true);
  assert.equal(u.rxInterruptEnabled, false); // a reader without interrupts
  assert.equal(getcharPolls(u, 1000), -1);
  assert.equal(u.pollingReader, true);
  assert.equal(u.receive(0x6b), true);
  assert.equal(u.pollingReader, false);
  assert.equal(getcharPolls(u, 1), 0x6b);
  assert.equal(getcharPolls(u, UART_POLLING_READER_POLLS), -1);
  assert.equal(u.pollingReader, true);
  u.reset();
  assert.equal(u.pollingReader, false);
  getcharPolls(u, UART_POLLING_READER_POLLS);
  assert.equal(u.pollingReader, true);
  u.mmio.write(UART_TX, 1, 0x3e); // the reader echoes or prompts: a THR write starts the count again
  assert.equal(u.pollingReader, false);
});

test('console output (poll LSR for THRE, write THR, repeat) never looks like a polling reader', () => {
  const { u, out } = make();
  for (let i = 0; i < 10_000; i++) {
    while (((u.mmio.read(UART_LSR, 1) as number) & UART_LSR_THRE) === 0) { /* THRE is always set */ }
    u.mmio.write(UART_TX, 1, 0x2e);
    assert.equal(u.pollingReader, false);
  }
  assert.equal(out.length, 10_000);
  // A divisor-latch write is not a THR write: it does not break a polling streak.
  getcharPolls(u, UART_POLLING_READER_POLLS);
  u.mmio.write(UART_LCR, 1, UART_LCR_DLAB);
  u.mmio.write(UART_DLL, 1, 1);
  u.mmio.write(UART_LCR, 1, 3);
  assert.equal(u.pollingReader, true);
});

test('host input the guest flushes unread goes back to the host in order; loopback bytes do not', () => {
  const irq = { set: () => {} };
  const u = new Uart16550(irq, () => {});
  const back: number[] = [];
  u.onFlushUnread = (b) => back.push(...b);
  u.mmio.write(UART_FCR, 1, UART_FCR_ENABLE_FIFO);
  u.receive(0x61); u.receive(0x62);
  u.mmio.write(UART_MCR, 1, UART_MCR_LOOP);
  u.mmio.write(UART_TX, 1, 0x7a); // looped back into the FIFO: the guest's own byte
  u.mmio.write(UART_FCR, 1, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
  assert.deepEqual(back, [0x61, 0x62]);
  assert.equal(Number(u.mmio.read(UART_LSR, 1)) & UART_LSR_DR, 0, 'the FIFO is empty for the guest');
});
