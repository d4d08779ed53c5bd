// Stock Linux 6.12 (the reference guest) against virtio-net over virtio-mmio: its own virtio_net driver negotiates the
// features, sets up the queues and the control queue (rx mode, MAC table, queue pairs), and moves traffic: ARP to a
// peer, and a TCP stream (busybox nc) to a minimal TCP sink in the peer, so Linux hands the device checksum and TSO
// work; the peer checks the stream arrived whole and in order. Every TCP frame the device puts on the wire is checked by an independent checksum. Until the wiring point
// adds --nic model=virtio-net, this test maps the transport itself, as linux-guest.test.ts does for blk/rng/console.
// Skipped when the reference image is not built (`vmio image build`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { ETH_P_ARP, ETH_P_IP } from '../../../src/backends/net/ethernet.js';
import { PortCounters, type FrameSink, type NetBackend } from '../../../src/backends/net/port.js';
import { ARPOP_REPLY, ARPOP_REQUEST, arpFrame, parseArp } from '../../../src/backends/net/testing/frames.js';
import { countedLine } from '../../../src/board/irq.js';
import { Plic } from '../../../src/board/plic.js';
import { findNode, parseFdt, propString, propU64s } from '../../../src/board/fdt-reader.js';
import { buildVirtDeviceTree } from '../../../src/board/virt-dt.js';
import { VIRT } from '../../../src/board/virt-map.js';
import { VIRTIO_MMIO_WINDOW, VirtioMmioTransport, virtioMmioDtNode, virtioMmioRegion } from '../../../src/devices/virtio/mmio.js';
import { VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_MQ, VIRTIO_NET_F_MRG_RXBUF } from '../../../src/devices/virtio/net/constants.js';
import { VirtioNet } from '../../../src/devices/virtio/net/device.js';
import { l4ChecksumOk } from '../../../src/devices/virtio/net/testing/fuzz.js';
import { TCP_ACK, TCP_FIN, TCP_SYN, tcpFrame } from '../../../src/devices/virtio/net/testing/packets.js';
import { feature } from '../../../src/devices/virtio/constants.js';
import { findImage } from '../../../src/image/paths.js';
import { IdentityDmaSpace } from '../../../src/memory/dma.js';
import { ISA_EXTENSIONS, buildVm } from '../../../src/host/build-vm.js';
import { HostConsole } from '../../../src/host/console.js';
import { parseRunOptions, type RunConfig } from '../../../src/cli/run-options.js';

const image = await findImage().catch(() => null);

const GUEST_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
const PEER_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0xab, 0xcd, 0xef);
const GUEST_IP = Uint8Array.of(10, 0, 2, 15);
const PEER_IP = Uint8Array.of(10, 0, 2, 2);
const eq = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The peer at 10.0.2.2: answers ARP, and runs a TCP sink on every port (accepts, keeps and acknowledges every byte
 * in order, answers FIN with FIN). Replies go back synchronously; the NicPort queues them for the guest.
 */
class Peer implements NetBackend {
  readonly name = 'peer';
  onFrame: FrameSink | null = null;
  readonly counters = new PortCounters();
  readonly linkUp = true;
  readonly live = false;
  readonly tcpFrames: Uint8Array[] = [];
  largestTcp = 0;
  bytesReceived = 0;
  readonly arps: number[] = [];
  /** The stream's bytes, in order. */
  readonly data: Uint8Array[] = [];
  private readonly conns = new Map<number, { rcvNxt: number; sndNxt: number }>();

  send(f: Uint8Array): void {
    this.counters.txFrames++;
    const type = (f[12]! << 8) | f[13]!;
    if (type === ETH_P_ARP) {
      const a = parseArp(f);
      if (a !== null && a.op === ARPOP_REQUEST && eq(a.tpa, PEER_IP)) { this.arps.push(a.op); this.reply(arpFrame(a.sha, ARPOP_REPLY, PEER_MAC, PEER_IP, a.sha, a.spa)); }
      return;
    }
    if (type !== ETH_P_IP || !eq(f.subarray(30, 34), PEER_IP)) return;
    const proto = f[23];
    if (proto === 6) this.tcp(f);
  }

  private tcp(f: Uint8Array): void {
    this.tcpFrames.push(f.slice());
    this.largestTcp = Math.max(this.largestTcp, f.length);
    const v = new DataView(f.buffer, f.byteOffset, f.length);
    const ihl = (f[14]! & 15) * 4;
    const t = 14 + ihl;
    const sport = v.getUint16(t), dport = v.getUint16(t + 2), seq = v.getUint32(t + 4), flags = f[t + 13]!;
    const len = v.getUint16(16) - ihl - (f[t + 12]! >> 4) * 4;
    const send = (fl: number, c: { rcvNxt: number; sndNxt: number }, options?: Uint8Array) => this.reply(tcpFrame({
      srcMac: PEER_MAC, dstMac: GUEST_MAC, src: PEER_IP, dst: GUEST_IP, sport: dport, dport: sport, seq: c.sndNxt, ack: c.rcvNxt, flags: fl,
      payload: new Uint8Array(0), ...(options === undefined ? {} : { options }),
    }));
    if ((flags & 0x04) !== 0) { this.conns.delete(sport); return; } // RST
    if ((flags & TCP_SYN) !== 0) {
      const c = { rcvNxt: (seq + 1) >>> 0, sndNxt: 100_000 };
      this.conns.set(sport, c);
      send(TCP_SYN | TCP_ACK, c, Uint8Array.of(2, 4, 0x05, 0xb4)); // MSS 1460
      c.sndNxt++;
      return;
    }
    const c = this.conns.get(sport);
    if (c === undefined) return;
    if (len > 0 && seq === c.rcvNxt) { c.rcvNxt = (c.rcvNxt + len) >>> 0; this.bytesReceived += len; this.data.push(f.slice(t + (f[t + 12]! >> 4) * 4, t + (f[t + 12]! >> 4) * 4 + len)); }
    if ((flags & TCP_FIN) !== 0 && ((seq + Math.max(0, len)) >>> 0) === c.rcvNxt) {
      c.rcvNxt = (c.rcvNxt + 1) >>> 0;
      send(TCP_FIN | TCP_ACK, c);
      c.sndNxt++;
      return;
    }
    if (len > 0 || (flags & TCP_FIN) !== 0) send(TCP_ACK, c);
  }

  private reply(frame: Uint8Array): void { this.counters.rxFrames++; this.onFrame?.(frame); }
  close(): void {}
}

test('Linux 6.12 drives virtio-net: features, control queue, ARP, and a TCP stream through checksum offload and TSO', { skip: image === null ? 'the reference image is not built' : false, timeout: 900_000 }, async (tc) => {
  const script = [
    'ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0',
    'cat /sys/class/net/eth0/address /sys/class/net/eth0/carrier',
    // busybox nc (the nc-1.10 port) reads no clock; it sends FIN at the end of its input. From a file, it writes
    // 8 KiB at a time, which Linux's TCP hands to the device as TSO packets.
    'seq 1 70000 > /tmp/data',
    'nc -n 10.0.2.2 5001 < /tmp/data; echo nc-exit $?',
    'poweroff',
  ].join('\n') + '\n';
  let out = '';
  const hc = new HostConsole(Readable.from([Buffer.from(script)]) as unknown as NodeJS.ReadStream, { write: (b: Uint8Array) => { out += Buffer.from(b).toString(); return true; } });
  // The VM does not expose its interrupt chip: catch the PLIC when buildVm wires the UART's line to it.
  let plic: Plic | null = null;
  const irqLine = Plic.prototype.irqLine;
  Plic.prototype.irqLine = function (this: Plic, n: number) { plic ??= this; return irqLine.call(this, n); };
  let vm: Awaited<ReturnType<typeof buildVm>>;
  try { vm = await buildVm(parseRunOptions(['--memory', '128', '--irqchip', 'plic']) as RunConfig, hc); } finally { Plic.prototype.irqLine = irqLine; }
  assert.ok(plic !== null, 'buildVm wired a line to the PLIC');
  const peer = new Peer();
  const { net, port } = VirtioNet.connect(peer, { deterministic: true, queuePairs: 2, mac: GUEST_MAC, cost: vm.metrics.cost });
  vm.sources.push(port);
  // Linux resets the device when it powers off: keep what the driver had set up, as of each reset.
  let features = 0n;
  const seen: { pairs: number; promisc: boolean }[] = [];
  const activate = net.activate.bind(net), reset = net.reset.bind(net);
  net.activate = (ctx) => { features = ctx.features; activate(ctx); };
  net.reset = () => { seen.push({ pairs: net.queuePairs, promisc: net.filter.promisc }); reset(); };
  const base = VIRT.virtio.base, irq = VIRT.virtio.irq;
  const line = countedLine((plic as Plic).irqLine(irq), vm.metrics.interrupt(`virtio-net@plic:${irq}`), () => vm.metrics.cost.charge('interruptInject'));
  const t = new VirtioMmioTransport(net, { irq: line, dma: new IdentityDmaSpace(vm.bus, vm.metrics.dma('virtio-net')), cost: vm.metrics.cost });
  vm.bus.addRegion(virtioMmioRegion('virtio-net', base, t));
  const chosen = findNode(parseFdt(vm.deviceTree).root, '/chosen')!;
  const fdt = buildVirtDeviceTree({
    harts: vm.harts.length, ramBase: vm.bus.ram.base, ramSize: vm.bus.ram.size, isa: { base: 'rv64imafdc', extensions: ISA_EXTENSIONS },
    mmuType: 'riscv,sv48', timebaseFrequency: 10_000_000, bootargs: propString(chosen, 'bootargs')!,
    devices: { uart: VIRT.uart0, rtc: VIRT.rtc, syscon: VIRT.test, plic: VIRT.plic, clint: VIRT.clint, virtio: [virtioMmioDtNode(base, VIRTIO_MMIO_WINDOW, irq).window] },
    initrd: { start: Number(propU64s(chosen, 'linux,initrd-start')![0]), end: Number(propU64s(chosen, 'linux,initrd-end')![0]) },
  });
  vm.bus.ram.load(Number(vm.harts[0]!.x[11]), fdt);
  hc.start();
  const exit = await vm.run(800);
  const diag = `${out}\ncounters ${JSON.stringify(net.counters)}\nfailure ${t.state.failure}\nctrl ${net.lastControlError}`;
  assert.equal(exit.kind, 'poweroff', diag);
  assert.equal(t.state.failure, null, diag);
  const f = features;
  for (const b of [VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_MQ]) assert.ok((f & feature(b)) !== 0n, `Linux took feature ${b}`);
  assert.match(out, /\n52:54:00:12:34:56\r?\n1\r?\n/, 'the config MAC and the carrier');
  assert.match(out, /\nnc-exit 0/, diag);
  assert.ok(peer.arps.length >= 1, 'the guest resolved the peer');
  const expected = Buffer.from(Array.from({ length: 70000 }, (_, i) => `${i + 1}\n`).join(''));
  assert.ok(Buffer.concat(peer.data).equals(expected), `the stream arrived whole and in order (${peer.bytesReceived} of ${expected.length} bytes)\n${diag}`);
  const c = net.counters;
  assert.ok(c.ctrlOk >= 3 && c.ctrlErr === 0, `control commands: ${c.ctrlOk} ok, ${c.ctrlErr} refused (${net.lastControlError})`);
  const last = seen[seen.length - 1];
  assert.deepEqual(last, { pairs: 1, promisc: false }, 'one hart: Linux enables one of the two pairs; it turned promiscuous mode off at ifup');
  assert.ok(peer.tcpFrames.length > 0 && peer.tcpFrames.every(l4ChecksumOk), 'every TCP frame on the wire has a right checksum');
  assert.ok(peer.largestTcp <= 1514, `largest TCP frame ${peer.largestTcp}`);
  assert.ok(c.txCsumComputed > 0, 'Linux offloaded checksums');
  assert.ok(c.tsoPackets > 0 && c.tsoSegments > c.tsoPackets, `Linux sent ${c.tsoPackets} TSO packets (${c.tsoSegments} segments)\n${diag}`);
  assert.ok(c.rxCsumValid > 0, 'frames from the peer were marked DATA_VALID');
  assert.deepEqual(vm.metrics.failures, []);
  tc.diagnostic(`tx ${c.txPackets} packets (${c.tsoPackets} TSO -> ${c.tsoSegments} segments, ${c.txCsumComputed} checksums), ${c.txFrames} frames; rx ${c.rxFrames} frames (${c.rxCsumValid} DATA_VALID); largest TCP frame ${peer.largestTcp}; ${vm.metrics.regions['virtio-net']?.byClass.notify ?? 0} notify exits`);
});
