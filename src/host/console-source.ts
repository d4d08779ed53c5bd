// The console's input side as an EventSource: host bytes queued by HostConsole reach the guest's UART only
// while a driver listens (receive interrupts enabled, or a reader polling the line-status register), since
// bytes sent earlier would be flushed by the 8250 driver's probe.

import type { EventSource } from './event-source.js';
import type { HostConsole } from './console.js';

/** What the guest's UART offers the console for input. */
export interface ConsoleInput {
  /** A driver listens: interrupts enabled or a polling reader. */
  listening(): boolean;
  /** The receive FIFO has room. */
  canReceive(): boolean;
  receive(byte: number): boolean;
}

/** With all input known, it is offered to the guest every 64 rounds (~131k instructions per hart). */
const FEED_ROUNDS_MASK = 63;

export class ConsoleSource implements EventSource {
  readonly name = 'console';

  constructor(private readonly console: HostConsole, private readonly input: ConsoleInput, private readonly deterministic: boolean) {}

  live(): boolean { return !this.console.inputEnded; }

  private takes(): boolean { return this.input.listening() && this.input.canReceive(); }

  ready(): boolean { return this.console.pending > 0 && this.takes(); }

  deliver(): void {
    while (this.console.pending > 0 && this.takes()) this.input.receive(this.console.take());
  }

  awaitBeforeSkip(): boolean {
    return this.deterministic && !this.console.inputEnded && this.console.pending === 0 && this.input.listening();
  }

  onRound(round: number): void {
    // Once stdin has ended every input byte is known: feeding at fixed rounds keeps runs identical.
    if (this.deterministic && this.console.inputEnded && (round & FEED_ROUNDS_MASK) === 0) this.deliver();
  }

  onYield(): void {
    // Input still arriving (a terminal, an open pipe) is fed as it comes.
    if (!this.deterministic || !this.console.inputEnded) this.deliver();
  }

  wait(ms: number): Promise<void> { return this.console.waitForInput(ms); }
}
