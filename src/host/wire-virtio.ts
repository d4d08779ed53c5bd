// Part of the wiring point (build-vm.ts): the VM's virtio devices on their transport — a PCI function behind the
// ECAM host bridge, or a virtio-mmio slot of the virt board — with their DMA spaces, interrupt lines, cost meter
// and host backends (disk images, the entropy source, a console port). Only build-vm.ts calls this.

import type { Bus } from '../memory/bus.js';
import { IdentityDmaSpace } from '../memory/dma.js';
import type { Metrics, ExitClass } from '../metrics/counters.js';
import type { IrqLine } from '../board/irq.js';
import { VIRT, type IrqWindow } from '../board/virt-map.js';
import type { PciHostBridge } from '../pci/host-bridge.js';
import type { VirtioDevice, VirtioState } from '../devices/virtio/device.js';
import { VirtioMmioTransport, virtioMmioRegion, VIRTIO_MMIO_NOTIFY_OFFSET, VIRTIO_MMIO_NOTIFY_SIZE } from '../devices/virtio/mmio.js';
import { VirtioPciDevice } from '../devices/virtio/pci.js';
import { VirtioBlk } from '../devices/virtio/blk.js';
import { VirtioRng } from '../devices/virtio/rng.js';
import { VirtioConsole, openConsolePort, readConsoleInput, type ConsoleSink } from '../devices/virtio/console.js';
import type { UnixSocketChar } from '../backends/char/unix-socket.js';
import { FileBlockBackend } from '../backends/block/file.js';
import type { ConsolePortSpec, VirtioTransport, DriveSpec } from '../cli/device-options.js';

/** A virtio device the wiring point should create, with where its backend work runs. */
export interface VirtioAttachment {
  name: string;
  device: VirtioDevice;
  transport: VirtioTransport;
  /** The doorbell's exit class: 'user' (the backend runs in the VMM after an exit to user space), or 'notify'. */
  doorbell: ExitClass;
  /** Offer VIRTIO_RING_F_EVENT_IDX (default true). */
  eventIdx?: boolean;
}

export interface VirtioWiring {
  bus: Bus;
  metrics: Metrics;
  pci: PciHostBridge;
  /** A counted wired line for a virtio-mmio slot. */
  line(name: string, source: number): IrqLine;
  /** Registered so the backend is closed (locks released, files flushed) when the VM stops. */
  onClose(fn: () => void): void;
  /** The next free PCI device number (throws VirtioConfigError past 31). */
  pciSlot(): number;
}

/** A mistake in what the person asked for (an image that cannot be opened, too many slots): exit 2. */
export class VirtioConfigError extends Error {}

export interface VirtioOptions {
  drives: readonly DriveSpec[];
  rng: VirtioTransport | null;
  consolePort: ConsolePortSpec | null;
  /** The listening socket of `--console-port unix:PATH` (opened by the wiring point), or null. */
  consoleSocket?: UnixSocketChar | null;
}

/** The virtio devices the options ask for, with their host backends opened. */
export function virtioDevices(o: VirtioOptions, w: Pick<VirtioWiring, 'metrics' | 'onClose'>): VirtioAttachment[] {
  const out: VirtioAttachment[] = [];
  const cost = w.metrics.cost;
  o.drives.forEach((d, i) => {
    let backend: FileBlockBackend;
    try {
      backend = FileBlockBackend.open(d.file, { readOnly: d.readOnly });
    } catch (e) {
      throw new VirtioConfigError(`--drive ${d.file}: ${(e as Error).message}`);
    }
    w.onClose(() => backend.close());
    const blk = new VirtioBlk(backend, { readOnly: d.readOnly, cost, ...(d.serial !== null ? { serial: d.serial } : {}) });
    out.push({ name: `virtio-blk${i}`, device: blk, transport: d.transport, doorbell: 'user', eventIdx: d.eventIdx });
  });
  if (o.rng !== null) out.push({ name: 'virtio-rng', device: new VirtioRng({ cost }), transport: o.rng, doorbell: 'user' });
  if (o.consolePort !== null) {
    const socket = o.consoleSocket ?? null;
    let port: { sink: ConsoleSink; close(): void };
    try {
      port = socket !== null ? { sink: socket, close: () => {} } : openConsolePort(o.consolePort.path);
    } catch (e) {
      throw new VirtioConfigError((e as Error).message);
    }
    w.onClose(() => port.close());
    let input: Uint8Array | null = null;
    try {
      if (o.consolePort.input !== null) input = readConsoleInput(o.consolePort.input);
    } catch (e) {
      throw new VirtioConfigError((e as Error).message);
    }
    const device = new VirtioConsole({
      sink: port.sink, cost, input, portName: o.consolePort.name,
      // A port nobody reads from the host side is only a source: closing after the input gives the reader its EOF.
      closeAfterInput: input !== null && o.consolePort.path === 'none',
      // A socket's end opens when a client connects.
      hostConnected: socket === null,
    });
    socket?.attach(device);
    out.push({ name: 'virtio-console', device, transport: o.consolePort.transport, doorbell: 'user' });
  }
  return out;
}

/** What the metrics report of a virtio device: its status, failure, features, and per-queue counters. */
function virtioReport(s: VirtioState): object {
  const dev = s.device as VirtioDevice & { counters?: { toJSON?(): unknown } };
  return {
    status: s.status, failure: s.failure, features: `0x${s.negotiated.toString(16)}`,
    queues: s.queues.map((q) => q.counters.toJSON()),
    ...(dev.counters !== undefined ? { device: dev.counters.toJSON?.() ?? dev.counters } : {}),
  };
}

/** Attaches each device to its transport; returns the virtio-mmio windows for the device tree. */
export function attachVirtio(devices: readonly VirtioAttachment[], w: VirtioWiring): IrqWindow[] {
  const windows: IrqWindow[] = [];
  let slot = 0;
  for (const a of devices) {
    if (a.transport === 'pci') {
      const dev = new VirtioPciDevice(a.device, { cost: w.metrics.cost, doorbell: a.doorbell, eventIdx: a.eventIdx ?? true });
      const fn = w.pci.attach(dev, { device: w.pciSlot() });
      w.metrics.device(`${fn.name} ${a.name}`, () => virtioReport(dev.virtio));
      continue;
    }
    if (slot >= VIRT.virtio.count) throw new VirtioConfigError(`too many virtio-mmio devices: ${a.name} finds no free slot (${VIRT.virtio.count} at most)`);
    const base = VIRT.virtio.base + slot * VIRT.virtio.size;
    const irq = VIRT.virtio.irq + slot;
    slot++;
    const t = new VirtioMmioTransport(a.device, {
      irq: w.line(a.name, irq), dma: new IdentityDmaSpace(w.bus, w.metrics.dma(a.name)), cost: w.metrics.cost, eventIdx: a.eventIdx ?? true,
    });
    w.metrics.device(a.name, () => virtioReport(t.state));
    const spec = virtioMmioRegion(a.name, base, t);
    w.bus.addRegion({ ...spec, classes: [{ offset: VIRTIO_MMIO_NOTIFY_OFFSET, size: VIRTIO_MMIO_NOTIFY_SIZE, exitClass: a.doorbell }] });
    windows.push({ base, size: VIRT.virtio.size, irq });
  }
  return windows;
}
