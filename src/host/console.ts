// The host side of the guest's serial console: guest output to stdout, host input queued until the guest's
// UART can take it. On a TTY the terminal is put in raw mode and Ctrl-A x quits (as in QEMU); with pipes,
// bytes pass through unchanged and the end of input is remembered.

const CTRL_A = 0x01;

export interface ConsoleSink {
  /** Guest output, one byte. */
  put(byte: number): void;
}

export class HostConsole implements ConsoleSink {
  private readonly input: number[] = [];
  private inHead = 0;
  private out = new Uint8Array(4096);
  private outLen = 0;
  private escape = false;
  private onData: ((chunk: Buffer) => void) | null = null;
  private onEnd: (() => void) | null = null;
  private wake: (() => void) | null = null;
  private raw = false;
  inputEnded = false;
  /** Set when the person typed Ctrl-A x. */
  quitRequested = false;
  /** The line the guest is printing (up to 200 bytes), to recognise a kernel panic. */
  private tail = '';
  panicked = false;
  /** Set when the kernel printed the last line of its panic report. */
  panicEnded = false;
  /** Set when stdout went away (e.g. `vmio run | head`): output is dropped and the VM stops. */
  outputClosed = false;
  /** Called with each complete line the guest prints (for benchmarks and tests watching for a marker). */
  onLine: ((line: string) => void) | null = null;

  constructor(
    private readonly stdin: NodeJS.ReadStream | null,
    private readonly stdout: { write(b: Uint8Array): unknown; on?(ev: 'error', fn: (e: Error) => void): unknown },
  ) {}

  start(): void {
    this.stdout.on?.('error', () => {
      this.outputClosed = true;
      this.quitRequested = true;
      this.wake?.();
    });
    const stdin = this.stdin;
    if (stdin === null) { this.inputEnded = true; return; }
    if (stdin.isTTY) {
      stdin.setRawMode(true);
      this.raw = true;
    }
    this.onData = (chunk: Buffer) => {
      for (const b of chunk) this.hostByte(b);
      this.wake?.();
    };
    this.onEnd = () => { this.inputEnded = true; this.wake?.(); };
    stdin.on('data', this.onData);
    stdin.on('end', this.onEnd);
    stdin.resume();
  }

  private hostByte(b: number): void {
    if (!this.raw) { this.input.push(b); return; }
    if (this.escape) {
      this.escape = false;
      if (b === 0x78 /* x */) { this.quitRequested = true; return; }
      if (b === CTRL_A) { this.input.push(CTRL_A); return; }
      return;
    }
    if (b === CTRL_A) { this.escape = true; return; }
    this.input.push(b);
  }

  /** Bytes of host input waiting for the guest. */
  get pending(): number { return this.input.length - this.inHead; }

  /** Puts bytes the guest never read back at the front of the input, in order (a UART flushed them). */
  putBack(bytes: Uint8Array): void {
    this.input.splice(this.inHead, 0, ...bytes);
  }

  /** Takes the next waiting input byte (call only when pending > 0). */
  take(): number {
    const b = this.input[this.inHead++]!;
    if (this.inHead > 4096 && this.inHead * 2 > this.input.length) {
      this.input.splice(0, this.inHead);
      this.inHead = 0;
    }
    return b;
  }

  put(byte: number): void {
    if (this.outLen === this.out.length) this.flush();
    this.out[this.outLen++] = byte;
    // Recognise "Kernel panic - not syncing" in the output stream.
    if (byte === 0x0a) {
      // The end line ("---[ end Kernel panic - not syncing: ... ]---") contains the panic line's text too.
      if (this.panicked && this.tail.includes('---[ end Kernel panic')) this.panicEnded = true;
      else if (this.tail.includes('Kernel panic - not syncing')) this.panicked = true;
      this.onLine?.(this.tail);
      this.tail = '';
    } else if (this.tail.length < 200) {
      this.tail += String.fromCharCode(byte);
    }
  }

  flush(): void {
    if (this.outLen === 0) return;
    if (!this.outputClosed) this.stdout.write(this.out.slice(0, this.outLen));
    this.outLen = 0;
  }

  /** Resolves when host input arrives or ends, or after `ms` milliseconds. */
  waitForInput(ms: number): Promise<void> {
    if (this.pending > 0 || this.inputEnded || this.quitRequested) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = null; resolve(); }, ms);
      this.wake = () => { clearTimeout(t); this.wake = null; resolve(); };
    });
  }

  stop(): void {
    this.flush();
    const stdin = this.stdin;
    if (stdin === null) return;
    if (this.onData) stdin.off('data', this.onData);
    if (this.onEnd) stdin.off('end', this.onEnd);
    if (this.raw) stdin.setRawMode(false);
    stdin.pause();
    stdin.unref?.();
  }
}
