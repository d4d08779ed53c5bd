// Tests for HostConsole through its public API with fake stdin/stdout: the Ctrl-A escapes in raw mode, bytes
// passed unchanged from pipes, kernel panic detection up to its end line, and stdout going away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { HostConsole } from '../../src/host/console.js';

const CTRL_A = 0x01;

/** A stand-in for process.stdin: a TTY or a pipe, recording raw-mode changes. */
class FakeStdin extends EventEmitter {
  rawModes: boolean[] = [];
  paused = false;
  constructor(readonly isTTY: boolean) { super(); }
  setRawMode(on: boolean): this { this.rawModes.push(on); return this; }
  resume(): this { this.paused = false; return this; }
  pause(): this { this.paused = true; return this; }
  unref(): this { return this; }
  type(...bytes: number[]): void { this.emit('data', Buffer.from(bytes)); }
}

/** A stand-in for process.stdout that can fail like a closed pipe. */
class FakeStdout extends EventEmitter {
  chunks: Buffer[] = [];
  write(b: Uint8Array): boolean { this.chunks.push(Buffer.from(b)); return true; }
  get text(): string { return Buffer.concat(this.chunks).toString('latin1'); }
}

function consoleOn(isTTY: boolean) {
  const stdin = new FakeStdin(isTTY);
  const stdout = new FakeStdout();
  const c = new HostConsole(stdin as unknown as NodeJS.ReadStream, stdout);
  c.start();
  return { c, stdin, stdout };
}

function drain(c: HostConsole): number[] {
  const out: number[] = [];
  while (c.pending > 0) out.push(c.take());
  return out;
}

function print(c: HostConsole, text: string): void {
  for (const ch of text) c.put(ch.charCodeAt(0));
}

test('on a terminal: raw mode while running, Ctrl-A x quits and reaches the guest as nothing', () => {
  const { c, stdin } = consoleOn(true);
  assert.deepEqual(stdin.rawModes, [true]);
  stdin.type(0x6c, 0x73, 0x0d); // "ls\r"
  assert.deepEqual(drain(c), [0x6c, 0x73, 0x0d]);
  assert.equal(c.quitRequested, false);
  stdin.type(CTRL_A);
  assert.equal(c.quitRequested, false, 'Ctrl-A alone only starts an escape');
  stdin.type(0x78);
  assert.equal(c.quitRequested, true);
  assert.equal(c.pending, 0);
  c.stop();
  assert.deepEqual(stdin.rawModes, [true, false], 'stop() puts the terminal back');
  assert.equal(stdin.paused, true);
});

test('on a terminal: Ctrl-A Ctrl-A sends one literal Ctrl-A; Ctrl-A and another key sends neither', () => {
  const { c, stdin } = consoleOn(true);
  stdin.type(CTRL_A, CTRL_A, 0x61);
  assert.deepEqual(drain(c), [CTRL_A, 0x61]);
  // The escape spans reads: Ctrl-A at the end of one chunk, the second key in the next.
  stdin.type(0x62, CTRL_A);
  stdin.type(CTRL_A);
  assert.deepEqual(drain(c), [0x62, CTRL_A]);
  stdin.type(CTRL_A, 0x63, 0x64);
  assert.deepEqual(drain(c), [0x64]);
  assert.equal(c.quitRequested, false);
  c.stop();
});

test('from a pipe: every byte passes unchanged (Ctrl-A x too), and the end of input is remembered', () => {
  const { c, stdin } = consoleOn(false);
  assert.deepEqual(stdin.rawModes, [], 'a pipe is never put in raw mode');
  stdin.type(CTRL_A, 0x78, CTRL_A, CTRL_A);
  assert.deepEqual(drain(c), [CTRL_A, 0x78, CTRL_A, CTRL_A]);
  assert.equal(c.quitRequested, false);
  assert.equal(c.inputEnded, false);
  stdin.emit('end');
  assert.equal(c.inputEnded, true);
  c.stop();
  assert.deepEqual(stdin.rawModes, []);
});

test('no stdin at all counts as input that has ended', () => {
  const c = new HostConsole(null, new FakeStdout());
  c.start();
  assert.equal(c.inputEnded, true);
  c.stop();
});

test('waitForInput resolves when input arrives, not when its time is up', async () => {
  const { c, stdin } = consoleOn(false);
  const waiting = c.waitForInput(3_600_000);
  stdin.type(0x41);
  await waiting; // would hang the test for an hour if only the timer ended it
  assert.equal(c.pending, 1);
  const ending = c.waitForInput(3_600_000);
  drain(c);
  stdin.emit('end');
  await ending;
  c.stop();
});

test('guest output reaches stdout on flush, and complete lines reach onLine', () => {
  const { c, stdout } = consoleOn(false);
  const lines: string[] = [];
  c.onLine = (l) => lines.push(l);
  print(c, 'hello\nwor');
  assert.equal(stdout.text, '', 'output is buffered until flush');
  c.flush();
  assert.equal(stdout.text, 'hello\nwor');
  print(c, 'ld\n');
  c.stop(); // stop flushes what is left
  assert.equal(stdout.text, 'hello\nworld\n');
  assert.deepEqual(lines, ['hello', 'world']);
});

test('a kernel panic is recognised, then the end line of its report', () => {
  const { c } = consoleOn(false);
  print(c, 'Run /init as init process\n');
  assert.equal(c.panicked, false);
  print(c, '[    1.23] Kernel panic - not syncing: No working init found.\n');
  assert.equal(c.panicked, true);
  assert.equal(c.panicEnded, false);
  print(c, 'CPU: 0 PID: 1 Comm: swapper\nCall Trace:\n');
  assert.equal(c.panicEnded, false);
  print(c, '---[ end Kernel panic - not syncing: No working init found. ]---');
  assert.equal(c.panicEnded, false, 'the end line counts once it is complete');
  print(c, '\n');
  assert.equal(c.panicEnded, true);
  c.stop();
});

test('a panic line split across many puts is still seen; a line longer than 200 bytes keeps only its start', () => {
  const { c } = consoleOn(false);
  print(c, 'x'.repeat(300) + ' Kernel panic - not syncing\n');
  assert.equal(c.panicked, false, 'only the first 200 bytes of a line are looked at');
  print(c, 'Kernel pa');
  print(c, 'nic - not syncing: Attempted to kill init!\n');
  assert.equal(c.panicked, true);
  c.stop();
});

test('stdout going away (EPIPE) closes the output: nothing more is written and the run is asked to stop', async () => {
  const { c, stdout } = consoleOn(false);
  print(c, 'before\n');
  c.flush();
  const waiting = c.waitForInput(3_600_000);
  stdout.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  await waiting; // the console wakes a waiting VM at once
  assert.equal(c.outputClosed, true);
  assert.equal(c.quitRequested, true);
  print(c, 'after\n');
  c.flush();
  c.stop();
  assert.equal(stdout.text, 'before\n');
});
