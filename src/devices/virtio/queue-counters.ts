// Per-queue counters of a virtqueue (ARCHITECTURE.md "Metrics": per VM, per function and per queue): the
// notifications and interrupts the split-ring protocol exchanges, and what moved through the queue.

export class QueueCounters {
  /** Available-buffer notifications the driver sent (doorbell writes). */
  notifications = 0;
  /**
   * Chains that arrived without a notification of their own because the published avail_event said none was
   * needed (VIRTIO_RING_F_EVENT_IDX): an upper bound of the doorbells EVENT_IDX saved, since a driver that
   * publishes several chains with one idx update saves those without it too.
   */
  notifySuppressed = 0;
  /** Used-buffer notifications (interrupts) the device sent, and the ones used_event or NO_INTERRUPT suppressed. */
  interrupts = 0;
  interruptsSuppressed = 0;
  /** Descriptor chains taken from the available ring, and descriptors read to build them. */
  chains = 0;
  descriptors = 0;
  /** Bytes the device read from device-readable buffers, and wrote into device-writable ones. */
  bytesRead = 0;
  bytesWritten = 0;
  /** DMA copies the device made to or from buffers. */
  copies = 0;
  /** Times the queue broke (a QueueError). */
  errors = 0;

  constructor(readonly name: string) {}

  clear(): void {
    this.notifications = 0; this.notifySuppressed = 0; this.interrupts = 0; this.interruptsSuppressed = 0;
    this.chains = 0; this.descriptors = 0; this.bytesRead = 0; this.bytesWritten = 0; this.copies = 0; this.errors = 0;
  }

  toJSON(): Record<string, number> {
    return {
      notifications: this.notifications, notifySuppressed: this.notifySuppressed, interrupts: this.interrupts,
      interruptsSuppressed: this.interruptsSuppressed, chains: this.chains, descriptors: this.descriptors,
      bytesRead: this.bytesRead, bytesWritten: this.bytesWritten, copies: this.copies, errors: this.errors,
    };
  }
}
