// Turns a parsed backend spec (spec.ts) into a backend, for the wiring point: one call per NIC. Switches are shared
// by name across the VMs of one process; captures and switch ageing run on the host's virtual clock.

import { NullBackend, type NetBackend } from './port.js';
import { CapturedBackend, PcapBackend, PcapWriter, type PcapClock, type PcapResolution } from './pcap.js';
import type { NetSpec } from './spec.js';
import { NetSwitch } from './switch.js';
import { TapBackend } from './tap.js';

export interface NetEnv {
  /** The process's switches by name, created on first use. */
  readonly switches: Map<string, NetSwitch>;
  /** Virtual time (ticks and ticks per second): pcap timestamps and MAC ageing. */
  readonly clock: PcapClock;
  readonly pcapResolution?: PcapResolution;
}

/** Seconds a learnt address stays in a switch's table unseen (Linux bridge's default ageing time). */
export const SWITCH_AGEING_SECONDS = 300;

/** The switch called `name`, created on first use. */
export function switchNamed(env: NetEnv, name: string): NetSwitch {
  let sw = env.switches.get(name);
  if (sw === undefined) {
    sw = new NetSwitch(name, { now: () => env.clock.now(), ageing: SWITCH_AGEING_SECONDS * env.clock.frequency });
    env.switches.set(name, sw);
  }
  return sw;
}

/**
 * Opens the backend of one NIC (`nicName` names its switch port). Throws TapError when a TAP cannot be opened, and
 * an Error naming the file when a capture cannot be created.
 */
export function openNetBackend(spec: NetSpec, env: NetEnv, nicName: string): NetBackend {
  const capture = (file: string): PcapWriter => PcapWriter.toFile(file, env.clock, env.pcapResolution === undefined ? {} : { resolution: env.pcapResolution });
  switch (spec.kind) {
    case 'none':
      return new NullBackend();
    case 'pcap':
      return new PcapBackend(`pcap:${spec.file}`, capture(spec.file));
    case 'tap': {
      const tap = TapBackend.open(spec.ifname);
      if (spec.pcap === null) return tap;
      try {
        return new CapturedBackend(tap, capture(spec.pcap));
      } catch (e) {
        tap.close();
        throw e;
      }
    }
    case 'switch': {
      const port = switchNamed(env, spec.name).addPort(nicName);
      if (spec.pcap === null) return port;
      try {
        return new CapturedBackend(port, capture(spec.pcap));
      } catch (e) {
        port.close();
        throw e;
      }
    }
  }
}
