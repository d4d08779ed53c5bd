// What every device model implements, whatever its bus (ARCHITECTURE.md "Core abstractions"): a reset to its
// power-on state, which function-level reset, VF reset, virtio reset and a VM reboot all use.

export interface Resettable {
  /** Returns the device to its power-on state (registers, queues, pending interrupts). */
  reset(): void;
}
