// Unit tests for the 16550A UART: FIFOs, IIR priorities, the THRE interrupt, loopback, guest-garbage tolerance.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Uart16550, UART_IER, UART_IIR, UART_FCR, UART_LCR, UART_LSR, UART_MCR, UART_MSR, UART_SCR, UART_RX, UART_TX,
  UART_IER_RDI, UART_IER_THRI, UART_IER_RLSI, UART_IER_MSI, UART_IIR_NO_INT, UART_IIR_THRI, UART_IIR_RDI,
  UART_IIR_RLSI, UART_IIR_RX_TIMEOUT, UART_IIR_MSI, UART_FCR_ENABLE_FIFO, UART_FCR_CLEAR_RCVR, UART_LCR_DLAB,
  UART_LSR_DR, UART_LSR_OE, UART_LSR_THRE, UART_LSR_TEMT, UART_MCR_LOOP, UART_MCR_RTS, UART_MCR_DTR, UART_MCR_OUT2,
  UART_MSR_CTS, UART_MSR_DSR, UART_MSR_DCD, UART_MSR_DCTS, UART_FIFO_SIZE,
} from '../../src/board/uart16550.js';
import { RecordingLine } from '../../src/board/testing/recorders.js';

function make() {
  const line = new RecordingLine();
  const out: number[] = [];
  const u = new Uart16550(line, (b) => out.push(b));
  return { u, line, out };
}
const iir = (u: Uart16550) => (u.read(UART_IIR, 1) as number) & 0x0f;

test('THR writes go to the sink at once and LSR shows THRE|TEMT', () => {
  const { u, out } = make();
  for (const c of 'hi\n') u.write(UART_TX, 1, c.charCodeAt(0));
  assert.deepEqual(out, [0x68, 0x69, 0x0a]);
  assert.equal((u.read(UART_LSR, 1) as number) & (UART_LSR_THRE | UART_LSR_TEMT), UART_LSR_THRE | UART_LSR_TEMT);
});

test('THRE interrupt: raised on IER.THRI rising edge, cleared by reading IIR, re-raised by the next THR write', () => {
  const { u, line } = make();
  assert.equal(iir(u), UART_IIR_NO_INT);
  u.write(UART_IER, 1, UART_IER_THRI);
  assert.equal(line.level, true);
  assert.equal(iir(u), UART_IIR_THRI);   // reading IIR with THRI reported clears it
  assert.equal(line.level, false);
  assert.equal(iir(u), UART_IIR_NO_INT);
  // Linux's THRE test: IER=0 then IER=THRI again must re-assert it.
  u.write(UART_IER, 1, 0);
  u.write(UART_IER, 1, UART_IER_THRI);
  assert.equal(iir(u), UART_IIR_THRI);
  // Rewriting THRI while already set does not re-raise it.
  u.write(UART_IER, 1, UART_IER_THRI);
  assert.equal(iir(u), UART_IIR_NO_INT);
  // Writing THR: the byte leaves, THR is empty again, a new THRE event.
  u.write(UART_TX, 1, 0x41);
  assert.equal(line.level, true);
  u.write(UART_IER, 1, 0);
  assert.equal(line.level, false);
});

test('RX without FIFO: one holding byte, DR, RDI interrupt, canReceive backpressure', () => {
  const { u, line } = make();
  u.write(UART_IER, 1, UART_IER_RDI);
  assert.equal(u.canReceive(), true);
  assert.equal(u.receive(0x31), true);
  assert.equal(u.canReceive(), false);
  assert.equal(u.receive(0x32), false);
  assert.equal(line.level, true);
  assert.equal(iir(u), UART_IIR_RDI);
  assert.equal((u.read(UART_LSR, 1) as number) & UART_LSR_DR, UART_LSR_DR);
  assert.equal(u.read(UART_RX, 1), 0x31);
  assert.equal(line.level, false);
  assert.equal((u.read(UART_LSR, 1) as number) & (UART_LSR_DR | UART_LSR_OE), 0);
});

test('RX FIFO: 16 bytes, trigger level gives RDI, below it a character timeout; IIR reports FIFOs enabled', () => {
  const { u } = make();
  u.write(UART_FCR, 1, UART_FCR_ENABLE_FIFO | 0x80); // trigger 8
  u.write(UART_IER, 1, UART_IER_RDI);
  assert.equal((u.read(UART_IIR, 1) as number) & 0xc0, 0xc0);
  let n = 0;
  while (u.canReceive()) { assert.equal(u.receive(0x40 + n), true); n++; }
  assert.equal(n, UART_FIFO_SIZE);
  assert.equal(iir(u), UART_IIR_RDI);
  for (let i = 0; i < 9; i++) assert.equal(u.read(UART_RX, 1), 0x40 + i);
  assert.equal(iir(u), UART_IIR_RX_TIMEOUT); // 7 left, below trigger 8
  for (let i = 9; i < 16; i++) assert.equal(u.read(UART_RX, 1), 0x40 + i);
  assert.equal(iir(u), UART_IIR_NO_INT);
  u.receive(1); u.receive(2);
  u.write(UART_FCR, 1, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
  assert.equal((u.read(UART_LSR, 1) as number) & UART_LSR_DR, 0);
});

test('IIR priority: line status > RX data > THRE > modem status', () => {
  const { u } = make();
  u.write(UART_IER, 1, UART_IER_RDI | UART_IER_THRI | UART_IER_RLSI | UART_IER_MSI);
  u.write(UART_MCR, 1, UART_MCR_LOOP);       // modem inputs change -> MSR deltas
  u.write(UART_MCR, 1, UART_MCR_LOOP | UART_MCR_RTS);
  u.write(UART_TX, 1, 0x55);                   // loops back into RX; THRE pending again
  u.write(UART_TX, 1, 0x56);                   // no FIFO: overrun -> OE
  assert.equal(iir(u), UART_IIR_RLSI);
  assert.equal((u.read(UART_LSR, 1) as number) & UART_LSR_OE, UART_LSR_OE); // reading LSR clears OE
  assert.equal(iir(u), UART_IIR_RDI);
  assert.equal(u.read(UART_RX, 1), 0x55);
  assert.equal(iir(u), UART_IIR_THRI);
  assert.equal(iir(u), UART_IIR_MSI);
  assert.equal((u.read(UART_MSR, 1) as number) & UART_MSR_DCTS, UART_MSR_DCTS);
  assert.equal(iir(u), UART_IIR_NO_INT);
});

test('loopback: TX goes to RX not the sink, MSR follows MCR, host input is refused', () => {
  const { u, out } = make();
  u.write(UART_FCR, 1, UART_FCR_ENABLE_FIFO);
  u.write(UART_MCR, 1, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
  assert.equal((u.read(UART_MSR, 1) as number) & 0xf0, UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
  u.write(UART_MCR, 1, UART_MCR_LOOP);
  assert.equal((u.read(UART_MSR, 1) as number) & 0xf0, 0);
  assert.equal(u.canReceive(), false);
  u.write(UART_TX, 1, 0x5a);
  assert.deepEqual(out, []);
  assert.equal(u.read(UART_RX, 1), 0x5a);
  u.write(UART_MCR, 1, 0);
  assert.equal(u.canReceive(), true);
  u.write(UART_TX, 1, 0x5b);
  assert.deepEqual(out, [0x5b]);
});

test('DLAB selects the divisor latch; LCR, SCR keep their values', () => {
  const { u, out } = make();
  u.write(UART_LCR, 1, UART_LCR_DLAB | 3);
  u.write(UART_TX, 1, 0x01);
  u.write(UART_IER, 1, 0x02);
  assert.equal(u.read(UART_RX, 1), 0x01);
  assert.equal(u.read(UART_IER, 1), 0x02);
  u.write(UART_LCR, 1, 3);
  assert.equal(u.read(UART_IER, 1), 0);
  assert.deepEqual(out, []);
  u.write(UART_SCR, 1, 0xa5);
  assert.equal(u.read(UART_SCR, 1), 0xa5);
  assert.equal(u.read(UART_LCR, 1), 3);
});

test('any offset, width and value is handled without throwing', () => {
  const { u } = make();
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0);
  for (let i = 0; i < 5000; i++) {
    const off = rnd() % 0x100;
    const width = ([1, 2, 4, 8] as const)[rnd() % 4]!;
    if (rnd() & 1) u.write(off, width, rnd() % 3 === 0 ? BigInt(rnd()) << 20n : rnd());
    else {
      const v = u.read(off, width);
      assert.ok(typeof v === 'number' && v >= 0 && v <= 0xff);
    }
  }
  assert.equal(u.read(0x80, 4), 0);
});
