// The Host: runs one or more VMs on a single virtual timeline, in rounds on Node's event loop (ARCHITECTURE.md
// "Host and scheduler"). A frame crossing from one VM to another therefore arrives at a deterministic time.
//
// Deterministic mode: every round runs each runnable hart of every VM for up to SLICE instructions, then
// virtual time advances by SLICE ticks; when every hart of every VM waits in WFI, time jumps to the next
// deadline. Host events enter only through EventSources at points the scheduler picks. Once nothing more can
// arrive from outside, idle skips may lead the host clock by at most IDLE_LEAD_TICKS, so a guest sitting at a
// prompt after its input ended costs (almost) no host work, while a script's `sleep 5` still takes no host time;
// with a real network attached (a TAP device), idle time follows the host clock, as its peers do.
// Realtime mode: time follows the host clock and an idle host sleeps until its next deadline or an event.

import type { Clock } from './clock.js';
import { DeterministicClock } from './clock.js';
import type { EventSource } from './event-source.js';
import { SLICE, type Vm, type VmExit } from './vm.js';

/** Host milliseconds between yields to the event loop while a guest is busy. */
const YIELD_MS = 20;
/** Host milliseconds an idle host with nothing to wait for sleeps before it looks again. */
const IDLE_POLL_MS = 20;
/** Idle time a host with no live input may skip ahead of the host clock: 60 s of guest time. */
export const IDLE_LEAD_TICKS = 600_000_000;
/** With a real network attached (a TAP), idle time may lead the host clock by 10 ms at most. */
export const REAL_OUTSIDE_LEAD_TICKS = 100_000;

/** The host's own clock and waits; tests replace it to check pacing without waiting for host time. */
export interface HostTime {
  nowMs(): number;
  sleep(ms: number): Promise<void>;
  /** One turn of the event loop. */
  turn(): Promise<void>;
}

export const realHostTime: HostTime = {
  nowMs: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  turn: () => new Promise<void>((r) => setImmediate(r)),
};

export class Host {
  private readonly det: DeterministicClock | null;
  private readonly sources: EventSource[];
  /** Pacing of idle skips once nothing is live: host ms and skipped ticks since the anchor. */
  private paceAnchorMs = -1;
  private pacedTicks = 0;
  /** Times the scheduler slept to keep idle skips within IDLE_LEAD_TICKS of the host clock (for tests/metrics). */
  pacingSleeps = 0;
  private liveVms: readonly Vm[];

  /**
   * `opts.roundByRound`: run owed rounds one by one instead of at once (payOwedRounds), for tests that check the
   * two agree.
   */
  constructor(readonly clock: Clock, readonly vms: readonly Vm[], hostSources: EventSource[] = [], private readonly time: HostTime = realHostTime,
    private readonly opts: { roundByRound?: boolean } = {}) {
    this.det = clock instanceof DeterministicClock ? clock : null;
    this.sources = [...hostSources, ...vms.flatMap((v) => v.sources)];
    this.liveVms = vms.filter((v) => v.exit === null);
  }

  /** The VMs still running (kept until one of them stops: the scheduler asks several times a round). */
  private live(): readonly Vm[] {
    const c = this.liveVms;
    for (let i = 0; i < c.length; i++) if (c[i]!.exit !== null) return (this.liveVms = this.vms.filter((v) => v.exit === null));
    return c;
  }

  private stopAll(exit: VmExit): void { for (const v of this.live()) v.stop(exit); }

  private updateAll(): void {
    const now = this.clock.now();
    for (const v of this.live()) v.updateDevices(now);
  }

  private flushConsoles(): void { for (const v of this.vms) v.console.flush(); }

  /** Host-side reasons to stop: Ctrl-A x on a console, the timeout, a panic that has finished printing. */
  private checkStops(nowMs: number, deadlineMs: number): void {
    for (const v of this.live()) {
      if (v.console.quitRequested) this.stopAll({ kind: 'quit' });
      else if (v.panicOver()) v.stop({ kind: 'panic' });
    }
    if (nowMs > deadlineMs) this.stopAll({ kind: 'timeout' });
  }

  private waitAny(ms: number): Promise<void> {
    const live = this.sources.filter((s) => s.live());
    if (live.length === 0) return this.time.sleep(ms);
    return Promise.race(live.map((s) => s.wait(ms)));
  }

  /** Runs until every VM has stopped. */
  async run(timeoutSeconds: number | null): Promise<void> {
    const deadlineMs = timeoutSeconds === null ? Infinity : this.time.nowMs() + timeoutSeconds * 1000;
    const det = this.det;
    let lastYield = this.time.nowMs();
    let round = 0;
    for (const v of this.vms) v.console.start();
    try {
      while (this.live().length > 0) {
        let ran = false;
        for (const v of this.live()) {
          try {
            if (v.runRound()) ran = true;
          } catch (e) {
            v.exit ??= { kind: 'error', error: e as Error };
          }
        }
        if (this.live().length === 0) break;
        const now = this.time.nowMs();
        if (ran) {
          round++;
          if (det !== null) det.advance(SLICE);
          this.updateAll();
          for (const s of this.sources) s.onRound(round);
          this.checkStops(now, Infinity);
          if (det !== null && this.opts.roundByRound !== true) round = this.payOwedRounds(det, round);
          if (now - lastYield >= YIELD_MS) {
            lastYield = now;
            this.flushConsoles();
            for (const s of this.sources) s.onYield();
            await this.time.turn();
            this.checkStops(this.time.nowMs(), deadlineMs);
          }
          continue;
        }
        // Every hart of every VM waits: the host is idle.
        this.flushConsoles();
        this.checkStops(now, deadlineMs);
        if (this.live().length === 0) break;
        if (this.sources.some((s) => s.ready())) {
          for (const s of this.sources) s.deliver();
          this.updateAll();
          lastYield = this.time.nowMs();
          await this.time.turn();
          continue;
        }
        const tNow = this.clock.now();
        let next = Infinity;
        for (const v of this.live()) next = Math.min(next, v.nextDeadline(tNow));
        const anyLive = this.sources.some((s) => s.live());
        if (next === Infinity && !anyLive) {
          for (const v of this.live()) v.stop({ kind: 'fail', code: 1, why: 'every hart waits for an interrupt that nothing can raise' });
          break;
        }
        if (det !== null) {
          if (this.sources.some((s) => s.awaitBeforeSkip())) {
            // Give host input a moment to arrive before time moves on, so piped scripts replay identically.
            await this.waitAny(next === Infinity ? Math.min(1000, deadlineMs - now) : 5);
            lastYield = this.time.nowMs();
            if (this.sources.some((s) => s.ready())) continue;
          }
          if (next === Infinity) {
            // Only the host can change anything now (input, Ctrl-A x, the timeout): let it.
            await this.waitAny(IDLE_POLL_MS);
            lastYield = this.time.nowMs();
            continue;
          }
          const realOutside = this.sources.some((s) => s.pacesIdle?.() === true);
          if ((!anyLive || realOutside) && await this.pace(next - det.ticks, realOutside ? REAL_OUTSIDE_LEAD_TICKS : IDLE_LEAD_TICKS)) {
            lastYield = this.time.nowMs();
            continue;
          }
          for (const v of this.live()) v.metrics.idleTicks += next - det.ticks;
          det.ticks = next;
          this.updateAll();
        } else {
          const waitMs = next === Infinity ? IDLE_POLL_MS : Math.min((next - tNow) / (this.clock.frequency / 1000), IDLE_POLL_MS);
          const bounded = Math.max(0, Math.min(waitMs, deadlineMs - now));
          if (this.sources.some((s) => s.ready())) await this.time.sleep(bounded); else await this.waitAny(bounded);
          lastYield = this.time.nowMs();
          for (const s of this.sources) s.deliver();
          this.updateAll();
        }
      }
    } finally {
      for (const v of this.vms) {
        v.close();
        v.console.stop();
        v.metrics.virtualTicks = this.clock.now();
      }
    }
  }

  /**
   * Deterministic mode: the rounds from here in which no hart can retire an instruction -- each one is stopped,
   * waits for an interrupt it cannot take yet, or still owes a whole slice or more of modelled hypervisor work --
   * and nothing else happens (no device deadline, no input the guest can take, no panic being timed), taken at
   * once: the owed slices paid, time advanced, the sources told of each round, the devices brought up to the end.
   * Exactly what those rounds one by one would do (a device's update before its deadline changes nothing, as
   * the idle skip relies on too), without the host's work per round: a boot owes more modelled time than it runs
   * instructions (53 k of its 90 k rounds are such rounds). Returns the round number after them.
   */
  private payOwedRounds(det: DeterministicClock, round: number): number {
    const live = this.live();
    let k = Infinity;
    for (const v of live) {
      if (v.console.panicked) return round;
      const r = v.owedRounds();
      if (r < k) k = r;
      if (k === 0) return round;
    }
    if (k === Infinity || this.sources.some((s) => s.ready())) return round;
    let next = Infinity;
    for (const v of live) next = Math.min(next, v.nextDeadline(det.ticks));
    // the rounds run at ticks, ticks + SLICE, ...: each must start before the deadline, and only the last may end at or after it
    if (next !== Infinity) k = Math.min(k, Math.ceil((next - det.ticks) / SLICE));
    if (k <= 0) return round;
    for (let j = 0; j < k; j++) {
      round++;
      for (const s of this.sources) s.onRound(round);
    }
    for (const v of live) v.payOwed(k);
    det.advance(k * SLICE);
    this.updateAll();
    return round;
  }

  /**
   * With no live input, keeps idle skips within IDLE_LEAD_TICKS of the host clock: returns true after sleeping
   * when skipping `ticks` now would run further ahead (the caller then looks again), false when it may skip.
   */
  private async pace(ticks: number, lead: number): Promise<boolean> {
    const nowMs = this.time.nowMs();
    if (this.paceAnchorMs < 0) { this.paceAnchorMs = nowMs; this.pacedTicks = 0; }
    const ticksPerMs = this.clock.frequency / 1000;
    const allowed = (nowMs - this.paceAnchorMs) * ticksPerMs + lead;
    if (this.pacedTicks + ticks <= allowed) { this.pacedTicks += ticks; return false; }
    this.pacingSleeps++;
    await this.time.sleep(Math.min(1000, Math.max(1, (this.pacedTicks + ticks - allowed) / ticksPerMs)));
    return true;
  }
}
