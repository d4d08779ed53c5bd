// Stock Linux 6.12 (the reference guest) against virtio-mmio blk, rng and console: its own virtio_mmio,
// virtio_blk, virtio-rng and virtio_console drivers probe the devices and move data through them. Until the
// wiring point adds virtio to buildVm, this test maps the transports itself on the VM's bus and rewrites the
// device tree in place. Skipped when the reference image is not built (`vmio image build`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FileBlockBackend } from '../../../src/backends/block/file.js';
import { countedLine, type WiredIrqChip } from '../../../src/board/irq.js';
import { findNode, parseFdt, propString, propU64s } from '../../../src/board/fdt-reader.js';
import { buildVirtDeviceTree } from '../../../src/board/virt-dt.js';
import { VIRT } from '../../../src/board/virt-map.js';
import { VirtioBlk } from '../../../src/devices/virtio/blk.js';
import { VirtioConsole } from '../../../src/devices/virtio/console.js';
import { VIRTIO_MMIO_WINDOW, VirtioMmioTransport, virtioMmioDtNode, virtioMmioRegion } from '../../../src/devices/virtio/mmio.js';
import { VirtioRng } from '../../../src/devices/virtio/rng.js';
import { findImage } from '../../../src/image/paths.js';
import { IdentityDmaSpace } from '../../../src/memory/dma.js';
import { ISA_EXTENSIONS, buildVm } from '../../../src/host/build-vm.js';
import { HostConsole } from '../../../src/host/console.js';
import { parseRunOptions, type RunConfig } from '../../../src/cli/run-options.js';

const image = await findImage().catch(() => null);

test('Linux 6.12 drives virtio-mmio blk, rng and console', { skip: image === null ? 'the reference image is not built' : false, timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmio-virtio-linux-'));
  try {
    const img = join(dir, 'disk.img');
    const disk = new Uint8Array(8 << 20);
    disk.set(new TextEncoder().encode('VMIO-DISK-MARKER'), 4096);
    writeFileSync(img, disk);
    const script = [
      'cat /sys/block/vda/size /sys/block/vda/queue/max_segments /sys/block/vda/serial; echo',
      'tail -c +4097 /dev/vda | head -c 16; echo',
      'cat /sys/devices/virtual/misc/hw_random/rng_current; head -c 32 /dev/hwrng | wc -c',
      'printf GUEST-WROTE-THIS > /dev/vda; sync',
      'echo to-hvc1 > /dev/hvc1',
      'poweroff',
    ].join('\n') + '\n';
    let out = '';
    const hc = new HostConsole(Readable.from([Buffer.from(script)]) as unknown as NodeJS.ReadStream, { write: (b: Uint8Array) => { out += Buffer.from(b).toString(); return true; } });
    const vm = await buildVm(parseRunOptions(['--memory', '128']) as RunConfig, hc);
    const plic = vm.bus.allRegions.find((r) => r.name === 'plic')!.handler as unknown as WiredIrqChip;
    const hvc: string[] = [];
    const blk = new VirtioBlk(FileBlockBackend.open(img), { serial: 'vmio-test', cost: vm.metrics.cost });
    const devices = [blk, new VirtioRng({ cost: vm.metrics.cost }), new VirtioConsole({ sink: { write: (b) => hvc.push(Buffer.from(b).toString()) } })];
    const transports = devices.map((d, i) => {
      const base = VIRT.virtio.base + i * VIRT.virtio.size, irq = VIRT.virtio.irq + i, name = `virtio${i}`;
      const line = countedLine(plic.irqLine(irq), vm.metrics.interrupt(`${name}@plic:${irq}`), () => vm.metrics.cost.charge('interruptInject'));
      const t = new VirtioMmioTransport(d, { irq: line, dma: new IdentityDmaSpace(vm.bus, vm.metrics.dma(name)), cost: vm.metrics.cost });
      vm.bus.addRegion(virtioMmioRegion(name, base, t));
      return { t, dt: virtioMmioDtNode(base, VIRTIO_MMIO_WINDOW, irq).window };
    });
    const chosen = findNode(parseFdt(vm.deviceTree).root, '/chosen')!;
    const fdt = buildVirtDeviceTree({
      harts: vm.harts.length, ramBase: vm.bus.ram.base, ramSize: vm.bus.ram.size, isa: { base: 'rv64imafdc', extensions: ISA_EXTENSIONS },
      mmuType: 'riscv,sv48', timebaseFrequency: 10_000_000, bootargs: propString(chosen, 'bootargs')!,
      devices: { uart: VIRT.uart0, rtc: VIRT.rtc, syscon: VIRT.test, plic: VIRT.plic, clint: VIRT.clint, virtio: transports.map((x) => x.dt) },
      initrd: { start: Number(propU64s(chosen, 'linux,initrd-start')![0]), end: Number(propU64s(chosen, 'linux,initrd-end')![0]) },
    });
    vm.bus.ram.load(Number(vm.harts[0]!.x[11]), fdt);
    hc.start();
    const exit = await vm.run(300);
    blk.backend.close();
    assert.equal(exit.kind, 'poweroff', out);
    assert.match(out, /virtio_blk virtio0: \[vda\] 16384 512-byte logical blocks/);
    assert.match(out, /\n16384\r?\n126\r?\nvmio-test/, 'capacity, seg_max and the GET_ID serial as Linux sees them');
    assert.match(out, /\nVMIO-DISK-MARKER/);
    assert.match(out, /\nvirtio_rng\.0\r?\n32\r?\n/);
    assert.equal(hvc.join(''), 'to-hvc1\r\n');
    assert.equal(readFileSync(img).subarray(0, 16).toString(), 'GUEST-WROTE-THIS', 'the guest write is in the image');
    for (const { t } of transports) assert.equal(t.state.failure, null, `${t.device.name}: ${t.state.failure}`);
    assert.deepEqual(vm.metrics.failures, []);
    assert.ok(vm.metrics.regions['virtio0']!.byClass.notify > 0, 'doorbells counted as notify exits');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
