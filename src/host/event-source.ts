// Host events entering a VM (ARCHITECTURE.md "Host and scheduler"): console bytes, TAP packets, host timers.
// Everything from outside reaches a guest through this one interface, and only at points the scheduler picks
// (between rounds, or while every hart waits), so that a run whose input is fully known repeats exactly.

export interface EventSource {
  readonly name: string;
  /** Whether more can still arrive from outside (stdin open, a TAP device up). */
  live(): boolean;
  /** Something has arrived that the guest can take now (an idle guest is woken for it rather than skipping time). */
  ready(): boolean;
  /** Hands what has arrived to the guest, as much as it can take now. */
  deliver(): void;
  /**
   * Whether the scheduler should give the outside a moment before it skips idle time: the guest listens and
   * input is still open, so the next byte of a piped script lands at the same guest time on every run.
   */
  awaitBeforeSkip(): boolean;
  /**
   * Deterministic feed points for input that is fully known (ended): called every round with the round number,
   * the source delivers at rounds fixed by guest state, never by host timing.
   */
  onRound(round: number): void;
  /** Called on each yield to the event loop (every ~20 ms of host time while the guest is busy). */
  onYield(): void;
  /**
   * The outside runs on the host's clock (a TAP device on the real host): while this is true, idle time is
   * skipped no further ahead of the host clock than it has passed, so a remote peer's replies and timeouts meet
   * the guest at the time they expect. Absent: false.
   */
  pacesIdle?(): boolean;
  /** Resolves when something arrives or the source closes, or after `ms` milliseconds. */
  wait(ms: number): Promise<void>;
}
