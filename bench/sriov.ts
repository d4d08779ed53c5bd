// Benchmark: direct I/O beside the other two architectures. The same iperf 2 transfer as `vmio bench net` (VM->VM,
// guest a's client to guest b's server, deterministic time) over:
//   - an SR-IOV VF of the 82576 model each, assigned from a driver domain running stock igb (a third VM), with the
//     IOMMU's two DMA policies (whole RAM; a restricted DMA window the guest bounces through) and the two ways an
//     interrupt reaches the guest (posted to its interrupt file; injected by the hypervisor, an exit each);
//   - virtio-net (user-space backend, EVENT_IDX on) and e1000 (no optimizations) on the in-process switch.
// Figures per packet: MMIO exits by class, device interrupts, IOTLB misses, interrupts posted vs injected, and the
// modelled hypervisor cost, for the sender and the receiver.
// Run: vmio bench sriov [--runs N] [--seconds S]   (VMIO_BENCH_ONLY=REGEX keeps matching configurations)

import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { benchOptions } from '../src/cli/bench-options.js';
import { ensureImage } from '../src/image/paths.js';
import { fmt, median, table, thousands, type WindowDelta } from '../src/testing/window-delta.js';
import { MEMORY_MIB, exitsCell, progress, range, runVmToVm, say, summary, type Row, type Transfer } from './net.js';

const PF = '/sys/bus/pci/devices/0000:00:01.0';
/** The driver domain enables its VFs at once; the guests rescan their bus after this many guest seconds. */
const RESCAN_AFTER_S = 12;

interface Config { name: string; vf: string | null; nic: string | null }
const CONFIGS: Config[] = [
  { name: 'VF, whole RAM, posted interrupts', vf: '', nic: null },
  { name: 'VF, whole RAM, interrupts via hypervisor', vf: ',irq=hypervisor', nic: null },
  { name: 'VF, DMA window, posted interrupts', vf: ',dma=window', nic: null },
  { name: 'VF, DMA window, interrupts via hypervisor', vf: ',dma=window,irq=hypervisor', nic: null },
  { name: 'virtio-net (user backend, EVENT_IDX on)', vf: null, nic: 'model=virtio-net,transport=pci,backend=user,eventidx=on' },
  { name: 'e1000 (no optimizations)', vf: null, nic: 'model=e1000' },
];
const BASE = 'virtio-net (user backend, EVENT_IDX on)';

/** The host file of one configuration: two guests, and for a VF a driver domain with the PF. */
function layout(c: Config): (client: string, server: string) => object[] {
  if (c.vf === null) {
    const nic = `switch=lan,${c.nic!}`;
    return (client, server) => [
      { name: 'a', memory: MEMORY_MIB, nics: [nic], input: client },
      { name: 'b', memory: MEMORY_MIB, nics: [nic], input: server },
    ];
  }
  const rescan = `sleep ${RESCAN_AFTER_S}; echo 1 > /sys/bus/pci/rescan; sleep 1\n`;
  return (client, server) => [
    { name: 'dd', memory: 128, nics: ['switch=uplink,model=igb'],
      input: `ip link set eth0 up; echo 0 > ${PF}/sriov_drivers_autoprobe; echo 2 > ${PF}/sriov_numvfs; sleep 1000000\n` },
    { name: 'a', memory: MEMORY_MIB, vfs: [`dd:0${c.vf}`], input: rescan + client },
    { name: 'b', memory: MEMORY_MIB, vfs: [`dd:1${c.vf}`], input: rescan + server },
  ];
}

/** Median over the transfers of an event count per packet on one side. */
function eventsPerPacket(r: Row, side: (t: Transfer) => WindowDelta | null, kind: string): number {
  if (r.transfers.some((t) => side(t) === null)) return NaN;
  return median(r.transfers.map((t) => (side(t)!.events[kind] ?? 0) / t.packets));
}

function resultTable(rows: Row[], base: number): string {
  const pair = (r: Row, kind: string, digits = 3) => `${fmt(eventsPerPacket(r, (t) => t.tx, kind), digits)} / ${fmt(eventsPerPacket(r, (t) => t.rx, kind), digits)}`;
  return table(
    ['configuration', 'Mbit/s guest time, median (range)', `× ${BASE.split(' (')[0]}`, 'exits/pkt sender (user / kernel / notify)', 'exits/pkt receiver',
      'irq/pkt sender / receiver', 'posted irq/pkt', 'injected irq/pkt', 'IOTLB misses/pkt', 'modelled cost/pkt sender / receiver', 'wall s'],
    rows.map((r) => {
      const m = summary(r);
      if (m === null) return [r.config, 'failed', '', (r.error ?? '').slice(0, 100), '', '', '', '', '', '', ''];
      return [r.config, `${fmt(m.mbit)} (${range(r)})`, fmt(m.mbit / base), exitsCell(m.tx), exitsCell(m.rx),
        `${fmt(m.tx?.irq ?? NaN, 3)} / ${fmt(m.rx?.irq ?? NaN, 3)}`, pair(r, 'interruptDirect'), pair(r, 'interruptInject'), pair(r, 'iotlbMiss'),
        `${thousands(m.tx?.cost ?? NaN)} / ${thousands(m.rx?.cost ?? NaN)}`, fmt(m.wall)];
    }));
}

export async function main(args: string[]): Promise<void> {
  const { runs, seconds } = benchOptions(args, { runs: { default: 3, min: 1, max: 20 }, seconds: { default: 2, min: 1, max: 60 } });
  await ensureImage({ quiet: true });
  const t0 = Date.now();
  say(`command: vmio bench sriov --runs ${runs} --seconds ${seconds}   (node ${process.version}, ${spawnSync('nproc').stdout?.toString().trim()} cores, ` +
    `load ${spawnSync('cat', ['/proc/loadavg']).stdout?.toString().split(' ').slice(0, 3).join(' ')})`);
  say(`each transfer: iperf -c SERVER -t ${seconds} -y C, VM->VM, ${runs} per configuration in one boot, guests of ${MEMORY_MIB} MiB, cost profile ` +
    'kvm-x86, deterministic time. VFs: a driver domain (stock igb, 82576 PF on a switch of its own) enables 2 VFs; each guest gets one by hot-plug and ' +
    'drives it with stock igbvf; the VFs switch frames in the NIC. Per packet (= bytes / 1448), less idle windows of the same boot: exits ' +
    'by class (BAR0 of a VF is direct: no exit), device interrupts, interrupts posted to the guest\'s interrupt file vs injected by the ' +
    'hypervisor, IOTLB misses of the IOMMU, modelled hypervisor cost in guest-instruction equivalents');
  const only = process.env['VMIO_BENCH_ONLY'] !== undefined ? new RegExp(process.env['VMIO_BENCH_ONLY']) : null;
  const configs = CONFIGS.filter((c) => only === null || only.test(c.name));
  const rows: Row[] = [];
  for (const c of configs) {
    const r = await runVmToVm(c.name, layout(c), runs, seconds);
    rows.push(r);
    progress('vmio', r);
  }
  const base = summary(rows.find((r) => r.config === BASE) ?? rows[0]!)?.mbit ?? NaN;
  say('');
  say('VM->VM, deterministic (guest time); wall figures are noisy on a shared machine.');
  process.stdout.write(resultTable(rows, base));
  say('');
  const vf = rows.find((r) => r.config === CONFIGS[0]!.name);
  if (vf !== undefined) say(`VF (whole RAM, posted) / ${BASE}: ${fmt((summary(vf)?.mbit ?? NaN) / base, 2)}x. Total ${fmt((Date.now() - t0) / 1000, 0)} s.`);
  say(`sriov: ${fmt(summary(vf ?? rows[0]!)?.mbit ?? NaN)} Mbit/s`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => { console.error(`bench sriov: ${e instanceof Error ? e.message : String(e)}`); process.exitCode = 1; });
}
