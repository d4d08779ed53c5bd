// A running VM: its harts, bus, clock and timed devices, and the scheduler that interleaves the harts in
// slices on Node's event loop (ARCHITECTURE.md "Scheduler"). Built only by build-vm.ts.
//
// Deterministic mode: every round runs each runnable hart for up to SLICE instructions, then virtual time
// advances by SLICE ticks; when every hart waits in WFI, time jumps to the next deadline. Once stdin has
// ended, host input is handed to the guest only at points fixed by guest state (idle, every 64 rounds), so a
// piped script gives the same run every time.
// Realtime mode: time follows the host clock and an idle VM sleeps until its next deadline or host input.

import type { Hart } from '../cpu/riscv/hart.js';
import type { Clock } from './clock.js';
import { DeterministicClock } from './clock.js';
import type { Metrics } from '../metrics/counters.js';
import type { HostConsole } from './console.js';

/** A device with its own notion of time (timer compare registers, RTC alarms). */
export interface TimedDevice {
  update(now: number): void;
  nextDeadline(): number;
}

/** What the guest's UART offers the console for input. */
export interface ConsoleInput {
  canReceive(): boolean;
  receive(byte: number): boolean;
}

export type VmExit =
  | { kind: 'poweroff' }
  | { kind: 'reboot' }
  | { kind: 'fail'; code: number; why: string }
  | { kind: 'panic' }
  | { kind: 'timeout' }
  | { kind: 'quit' }
  | { kind: 'error'; error: Error };

/** Instructions per hart per round; also the deterministic clock's step in ticks. */
export const SLICE = 2048;
/** Host milliseconds between yields to the event loop while the guest is busy. */
const YIELD_MS = 20;
/** Host milliseconds an idle VM with nothing to wait for sleeps before it looks at the host again. */
const IDLE_POLL_MS = 20;
/** With all input known, it is offered to the guest every 64 rounds (~131k instructions per hart). */
const FEED_ROUNDS_MASK = 63;
/** Timer compare values from here up mean "no timer" (Linux writes ULONG_MAX to stop its clock event). */
const TIMER_OFF = 2 ** 62;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class Vm {
  private exit: VmExit | null = null;
  private readonly sliceStart: number[];
  /** The clock when it is deterministic (advanced by the scheduler), else null. */
  private readonly det: DeterministicClock | null;
  /** Index of the hart inside run(), or -1 between slices. */
  private running = -1;
  /** Virtual time at which the guest printed "Kernel panic", or null. */
  private panicAt: number | null = null;

  constructor(
    readonly harts: Hart[],
    readonly clock: Clock,
    readonly metrics: Metrics,
    private readonly timed: TimedDevice[],
    private readonly console: HostConsole,
    private readonly input: ConsoleInput,
  ) {
    this.sliceStart = harts.map(() => 0);
    this.det = clock instanceof DeterministicClock ? clock : null;
  }

  /** The `time` value a hart sees: deterministic time advances with the running hart's own instructions. */
  timeFor(hartIndex: number, instret: number): number {
    if (this.det !== null && hartIndex === this.running) {
      return this.det.now(instret - this.sliceStart[hartIndex]!);
    }
    return this.clock.now();
  }

  /** Stops the run loop after the current instruction (devices and SBI call this). */
  stop(exit: VmExit): void {
    if (this.exit === null) this.exit = exit;
    for (const h of this.harts) h.requestExit();
  }

  private feedInput(): void {
    while (this.console.pending > 0 && this.input.canReceive()) this.input.receive(this.console.take());
  }

  private updateDevices(now: number): void {
    for (const d of this.timed) d.update(now);
  }

  /** The earliest timer deadline after `now`; Infinity when none is armed (values from TIMER_OFF up mean "off"). */
  private nextDeadline(now: number): number {
    let t = Infinity;
    const consider = (d: number) => { if (d > now && d < TIMER_OFF && d < t) t = d; };
    for (const d of this.timed) consider(d.nextDeadline());
    for (const h of this.harts) if (!h.stopped) consider(h.nextDeadline());
    return t;
  }

  /** After "Kernel panic" the VM runs on until the kernel's end-of-panic line (or 1 s of guest time) so the backtrace is printed. */
  private panicOver(): boolean {
    if (!this.console.panicked) return false;
    const now = this.clock.now();
    this.panicAt ??= now;
    return this.console.panicEnded || now - this.panicAt >= this.clock.frequency;
  }

  async run(timeoutSeconds: number | null): Promise<VmExit> {
    const deadlineMs = timeoutSeconds === null ? Infinity : Date.now() + timeoutSeconds * 1000;
    const det = this.det;
    let lastYield = Date.now();
    let round = 0;
    this.console.start();
    try {
      while (this.exit === null) {
        let ran = false;
        for (let i = 0; i < this.harts.length; i++) {
          const h = this.harts[i]!;
          if (h.stopped) continue;
          if (h.waiting) {
            if (!h.wakeable()) continue; // wakeable() re-evaluates the hart's timers at the current time
            h.waiting = false;
          }
          this.sliceStart[i] = h.instret;
          this.running = i;
          h.run(SLICE);
          this.running = -1;
          ran = true;
          if (this.exit !== null) break;
        }
        if (this.exit !== null) break;
        const now = Date.now();
        if (ran) {
          round++;
          if (det !== null) det.advance(SLICE);
          this.updateDevices(this.clock.now());
          if (this.panicOver()) { this.stop({ kind: 'panic' }); break; }
          // Once stdin has ended every input byte is known: feeding at fixed rounds keeps runs identical.
          if (det !== null && this.console.inputEnded && (round & FEED_ROUNDS_MASK) === 0) this.feedInput();
          if (now - lastYield >= YIELD_MS) {
            lastYield = now;
            this.console.flush();
            // Input still arriving (a terminal, an open pipe) is fed as it comes.
            if (det === null || !this.console.inputEnded) this.feedInput();
            await new Promise<void>((r) => setImmediate(r));
            if (this.console.quitRequested) this.stop({ kind: 'quit' });
            if (now > deadlineMs) this.stop({ kind: 'timeout' });
          }
          continue;
        }
        // Every hart waits: the guest is idle.
        this.console.flush();
        if (this.panicOver()) { this.stop({ kind: 'panic' }); break; }
        if (this.console.quitRequested) { this.stop({ kind: 'quit' }); break; }
        if (now > deadlineMs) { this.stop({ kind: 'timeout' }); break; }
        const listening = this.input.canReceive();
        if (this.console.pending > 0 && listening) {
          this.feedInput();
          this.updateDevices(this.clock.now());
          lastYield = Date.now();
          await new Promise<void>((r) => setImmediate(r));
          continue;
        }
        const tNow = this.clock.now();
        const next = this.nextDeadline(tNow);
        if (next === Infinity && this.console.inputEnded && (this.console.pending === 0 || !listening)) {
          this.stop({ kind: 'fail', code: 1, why: 'every hart waits for an interrupt that nothing can raise' });
          break;
        }
        if (det !== null) {
          if (!this.console.inputEnded && this.console.pending === 0 && listening) {
            // Give host input a moment to arrive before time moves on, so piped scripts replay identically.
            await this.console.waitForInput(next === Infinity ? Math.min(1000, deadlineMs - now) : 5);
            lastYield = Date.now();
            if (this.console.pending > 0) continue;
          }
          if (next === Infinity) {
            // Only the host can change anything now (input, Ctrl-A x, the timeout): let it.
            await sleep(IDLE_POLL_MS);
            lastYield = Date.now();
            continue;
          }
          this.metrics.idleTicks += next - det.ticks;
          det.ticks = next;
          this.updateDevices(det.ticks);
        } else {
          const waitMs = next === Infinity ? IDLE_POLL_MS : Math.min((next - tNow) / (this.clock.frequency / 1000), IDLE_POLL_MS);
          const bounded = Math.max(0, Math.min(waitMs, deadlineMs - now));
          if (this.console.pending > 0) await sleep(bounded); else await this.console.waitForInput(bounded);
          lastYield = Date.now();
          this.feedInput();
          this.updateDevices(this.clock.now());
        }
      }
    } catch (e) {
      this.exit = { kind: 'error', error: e as Error };
    } finally {
      this.console.stop();
      this.metrics.virtualTicks = this.clock.now();
    }
    return this.exit ?? { kind: 'error', error: new Error('run loop ended without a reason') };
  }
}
