// A running VM: its harts, bus, clock and timed devices, and the scheduler that interleaves the harts in
// slices on Node's event loop (ARCHITECTURE.md "Scheduler"). Built only by build-vm.ts.
//
// Deterministic mode: every round runs each runnable hart for up to SLICE instructions, then virtual time
// advances by SLICE ticks; when every hart waits in WFI, time jumps to the next deadline. Host input is
// handed to the guest only when it is idle, so a piped script gives the same run every time.
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

export class Vm {
  private exit: VmExit | null = null;
  private readonly sliceStart: number[];

  constructor(
    readonly harts: Hart[],
    readonly clock: Clock,
    readonly metrics: Metrics,
    private readonly timed: TimedDevice[],
    private readonly console: HostConsole,
    private readonly input: ConsoleInput,
  ) {
    this.sliceStart = harts.map(() => 0);
  }

  /** The `time` value a hart sees: deterministic time advances with the hart's own instructions in the slice. */
  timeFor(hartIndex: number, instret: number): number {
    if (this.clock instanceof DeterministicClock) return this.clock.now(instret - this.sliceStart[hartIndex]!);
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

  private nextDeadline(): number {
    let t = Infinity;
    for (const d of this.timed) t = Math.min(t, d.nextDeadline());
    for (const h of this.harts) if (!h.stopped) t = Math.min(t, h.nextDeadline());
    return t;
  }

  async run(timeoutSeconds: number | null): Promise<VmExit> {
    const deadlineMs = timeoutSeconds === null ? Infinity : Date.now() + timeoutSeconds * 1000;
    const det = this.clock instanceof DeterministicClock ? this.clock : null;
    let lastYield = Date.now();
    this.console.start();
    try {
      while (this.exit === null) {
        let ran = false;
        for (let i = 0; i < this.harts.length; i++) {
          const h = this.harts[i]!;
          if (h.stopped) continue;
          if (h.waiting) {
            h.checkTimers(); // time may have jumped to this hart's own timer deadline while it waited
            if (!h.wakeable()) continue;
            h.waiting = false;
          }
          this.sliceStart[i] = h.instret;
          h.run(SLICE);
          ran = true;
          if (this.exit !== null) break;
        }
        if (this.exit !== null) break;
        const now = Date.now();
        if (ran) {
          if (det !== null) det.advance(SLICE);
          this.updateDevices(this.clock.now());
          if (this.console.panicked) { this.stop({ kind: 'panic' }); break; }
          if (now - lastYield >= YIELD_MS) {
            lastYield = now;
            this.console.flush();
            if (!det) this.feedInput();
            await new Promise<void>((r) => setImmediate(r));
            if (this.console.quitRequested) this.stop({ kind: 'quit' });
            if (now > deadlineMs) this.stop({ kind: 'timeout' });
          }
          continue;
        }
        // Every hart waits: the guest is idle.
        this.console.flush();
        if (this.console.panicked) { this.stop({ kind: 'panic' }); break; }
        if (this.console.quitRequested) { this.stop({ kind: 'quit' }); break; }
        if (now > deadlineMs) { this.stop({ kind: 'timeout' }); break; }
        if (this.console.pending > 0 && this.input.canReceive()) {
          this.feedInput();
          this.updateDevices(this.clock.now());
          lastYield = Date.now();
          await new Promise<void>((r) => setImmediate(r));
          continue;
        }
        const next = this.nextDeadline();
        if (det !== null) {
          if (!this.console.inputEnded && this.console.pending === 0 && this.input.canReceive()) {
            // Give host input a moment to arrive before time moves on, so piped scripts replay identically.
            await this.console.waitForInput(next === Infinity ? Math.min(1000, deadlineMs - now) : 5);
            lastYield = Date.now();
            if (this.console.pending > 0) continue;
          }
          if (next === Infinity) {
            if (this.console.inputEnded && this.console.pending === 0) {
              // Nothing can ever wake the guest again.
              this.stop({ kind: 'fail', code: 1, why: 'every hart waits for an interrupt that nothing can raise' });
              break;
            }
            continue;
          }
          if (next > det.ticks) {
            this.metrics.idleTicks += next - det.ticks;
            det.ticks = next;
          }
          this.updateDevices(det.ticks);
        } else {
          const waitMs = Math.max(0, Math.min((next - this.clock.now()) / (this.clock.frequency / 1000), 50, deadlineMs - now));
          await this.console.waitForInput(waitMs);
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
