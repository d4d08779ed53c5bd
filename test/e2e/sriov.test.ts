// End-to-end direct I/O: a driver domain (stock igb on vmio's 82576 PF) enables two VFs, and the host file's "vfs"
// key assigns one to each of two guests. Each guest rescans its PCI bus, stock igbvf binds the VF (config space
// emulated by the guest's own host bridge, BAR0 'direct', MSI-X table trapped, DMA through the Host's IOMMU), and the
// guests ping the driver domain's PF and each other through the NIC's embedded switch. Disabling the VFs in the
// driver domain removes them from the guests' buses: g1 lets go of its VF first, g2 is still driving its VF (a surprise
// removal: its BAR reads return all ones, its DMA is cut) and carries on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVmio } from '../../src/testing/run-vmio.js';

const tmp = mkdtempSync(join(tmpdir(), 'vmio-sriov-e2e-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

interface VmReport {
  regions: Record<string, { byClass: Record<string, number> }>;
  dma: Record<string, Record<string, number>>;
  cost: { events: Record<string, number> };
}

test('two guests each get a VF of the driver domain\'s igb PF, igbvf binds it after a rescan, they ping the PF and each other', async () => {
  const file = join(tmp, 'sriov.json');
  const metrics = join(tmp, 'sriov.metrics.json');
  const pf = '/sys/bus/pci/devices/0000:00:01.0';
  // Virtual time is deterministic: the guests' rescan (12 s) comes after the driver domain enabled its VFs.
  writeFileSync(file, JSON.stringify({ vms: [
    { name: 'dd', memory: 128, nics: ['switch=lan,model=igb,mac=52:54:00:00:0d:01'], input: [
      `ip addr add 10.0.0.1/24 dev eth0; ip link set eth0 up; echo 0 > ${pf}/sriov_drivers_autoprobe; echo 2 > ${pf}/sriov_numvfs; echo VFS-ON`,
      `sleep 35; echo 0 > ${pf}/sriov_numvfs; echo VFS-OFF; sleep 8; poweroff`, ''].join('\n') },
    { name: 'g1', memory: 128, vfs: ['dd:0'], input: [
      'sleep 12; echo 1 > /sys/bus/pci/rescan; sleep 1; lspci -n; ip addr add 10.0.0.11/24 dev eth0; ip link set eth0 up; sleep 5',
      'ping -c 3 10.0.0.1; ping -c 3 10.0.0.12; echo 1 > /sys/bus/pci/devices/0000:00:01.0/remove',
      'sleep 25; echo 1 > /sys/bus/pci/rescan; echo AFTER-OFF; lspci -n; poweroff', ''].join('\n') },
    // g2 still drives its VF when the driver domain pulls it: a surprise removal it survives.
    { name: 'g2', memory: 128, vfs: ['dd:1'], input: [
      'sleep 12; echo 1 > /sys/bus/pci/rescan; sleep 1; ip addr add 10.0.0.12/24 dev eth0; ip link set eth0 up; sleep 35',
      'echo G2-ALIVE; ping -c 1 -W 2 10.0.0.1; echo 1 > /sys/bus/pci/devices/0000:00:01.0/remove; echo 1 > /sys/bus/pci/rescan; lspci -n; poweroff', ''].join('\n') },
  ] }));
  const r = await runVmio(['run', '--config', file, '--timeout', '300', '--metrics', metrics]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const of = (vm: string) => r.stdout.split('\n').filter((l) => l.startsWith(`[${vm}] `)).map((l) => l.slice(vm.length + 3)).join('\n');
  const dd = of('dd'), g1 = of('g1'), g2 = of('g2');
  assert.match(dd, /igb 0000:00:01\.0: 2 VFs allocated/);
  assert.doesNotMatch(dd, /igbvf 0000:00:11/, 'the assigned VFs are not driven in the driver domain');
  for (const g of [g1, g2]) {
    assert.match(g, /pci 0000:00:01\.0: \[8086:10ca\] type 00 class 0x020000 PCIe Endpoint/, 'the rescan found the VF at the guest\'s own slot');
    assert.match(g, /igbvf 0000:00:01\.0: Address: [0-9a-f]{2}(:[0-9a-f]{2}){5}/, 'the mailbox to the driver domain\'s PF works');
    assert.match(g, /igbvf 0000:00:01\.0: Link is Up 1000 Mbps Full Duplex/);
    assert.doesNotMatch(g, /SR-IOV|sriov/i, 'no SR-IOV capability is visible in the guest');
  }
  const pings = g1.match(/3 packets transmitted, 3 packets received, 0% packet loss/g) ?? [];
  assert.equal(pings.length, 2, `g1 pinged the PF (10.0.0.1) and g2 (10.0.0.12):\n${g1}`);
  const after = g1.slice(g1.lastIndexOf('\nAFTER-OFF'));
  assert.doesNotMatch(after, /8086:10ca/, 'VF Enable cleared in the driver domain: a rescan of the guest finds no VF');
  const surprised = g2.slice(g2.lastIndexOf('\nG2-ALIVE'));
  assert.ok(dd.includes('VFS-OFF') && surprised.length > 0, 'g2 outlived the removal of the VF it was driving');
  assert.match(surprised, /1 packets transmitted, 0 packets received, 100% packet loss/, 'the pulled VF moves no frames');
  assert.match(surprised, /00:00\.0 Class 0600/);
  assert.doesNotMatch(surprised, /8086:10ca/, 'after the guest removed it, its rescan finds no VF');

  const report = JSON.parse(readFileSync(metrics, 'utf8')) as { vms: Record<string, VmReport>; iommu: { counters: Record<string, number>; faults: { total: number }; domains: { vm: string; devices: number[] }[] } };
  assert.deepEqual(report.iommu.domains.map((d) => d.vm), ['g1', 'g2'], 'one IOMMU domain per guest with a VF');
  assert.ok(report.iommu.counters['translations']! > 0, `the VFs' DMA was translated: ${JSON.stringify(report.iommu.counters)}`);
  assert.equal(report.iommu.faults.total, 0, 'well-behaved guests cause no IOMMU faults');
  const m = report.vms['g1']!;
  const bar0 = m.regions['00:01.0/bar0']!.byClass, bar3 = m.regions['00:01.0/bar3']!.byClass;
  assert.ok(bar0['direct']! > 0 && bar0['user'] === 0 && bar0['kernel'] === 0, `BAR0 accesses are direct, never exits: ${JSON.stringify(bar0)}`);
  assert.ok(bar3['user']! > 0 && bar3['direct'] === 0, `the MSI-X table stays trapped: ${JSON.stringify(bar3)}`);
  assert.ok(m.cost.events['interruptDirect']! >= 6, `the VF's MSIs reached the interrupt file directly: ${JSON.stringify(m.cost.events)}`);
  assert.ok(m.cost.events['iotlbMiss']! > 0, 'the VF\'s DMA went through the IOMMU');
  // The VF's own exits: only the MSI-X table/PBA setup, a fixed handful, not per packet.
  assert.ok(bar3['user']! < 100, `BAR3 exits ${bar3['user']} stay a setup cost`);
});

test('the other policies: a VF confined to a restricted DMA window with interrupts through the hypervisor, beside one with the defaults held to a rate by the PF', async () => {
  const file = join(tmp, 'policies.json');
  const metrics = join(tmp, 'policies.metrics.json');
  const pf = '/sys/bus/pci/devices/0000:00:01.0';
  writeFileSync(file, JSON.stringify({ vms: [
    { name: 'dd', memory: 128, nics: ['switch=lan,model=igb,mac=52:54:00:00:0d:01'], input: [
      `ip link set eth0 up; echo 0 > ${pf}/sriov_drivers_autoprobe; echo 2 > ${pf}/sriov_numvfs; sleep 4`,
      // Only the NIC can hold a VF to a rate: the PF's driver programs VF 1's transmit limiter (RTTBCNRC).
      'ip link set eth0 vf 1 max_tx_rate 2; ip link show eth0; sleep 120; poweroff', ''].join('\n') },
    { name: 'g1', memory: 128, vfs: ['dd:0,dma=window,irq=hypervisor'], input: [
      'sleep 12; echo 1 > /sys/bus/pci/rescan; sleep 1; ip addr add 10.0.0.11/24 dev eth0; ip link set eth0 up; sleep 5',
      'iperf -s -f m > /tmp/server.out 2>&1 &', 'ping -c 2 10.0.0.12; iperf -c 10.0.0.12 -t 2 -f m; sleep 20; poweroff', ''].join('\n') },
    { name: 'g2', memory: 128, vfs: ['dd:1'], input: [
      'sleep 12; echo 1 > /sys/bus/pci/rescan; sleep 1; ip addr add 10.0.0.12/24 dev eth0; ip link set eth0 up; iperf -s -f m > /tmp/server.out 2>&1 &',
      // After g1's transfer to this VM, one back to g1 through VF 1, which the PF holds to 2 Mbit/s.
      'sleep 14; iperf -c 10.0.0.11 -t 2 -f m; sleep 5; poweroff', ''].join('\n') },
  ] }));
  const r = await runVmio(['run', '--config', file, '--timeout', '600', '--metrics', metrics]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const of = (vm: string) => r.stdout.split('\n').filter((l) => l.startsWith(`[${vm}] `)).map((l) => l.slice(vm.length + 3)).join('\n');
  const g1 = of('g1'), dd = of('dd');
  assert.match(r.stderr, /g1 has VF dd:0 assigned .*cannot be live-migrated/, 'vmio says what direct I/O gives up');
  assert.match(dd, /vf 1 .*max_tx_rate 2Mbps/, `iproute2's ip in the driver domain set and shows the VF's limit:\n${dd}`);
  assert.match(g1, /Reserved memory: created restricted DMA pool at 0x[0-9a-f]+, size 4 MiB/, g1);
  assert.match(g1, /igbvf 0000:00:01\.0: Link is Up/);
  assert.match(g1, /2 packets transmitted, 2 packets received/);
  // g1 → g2 through VF 0 and the bounce buffers; then g2 → g1 through VF 1, held to 2 Mbit/s by the NIC.
  const rate = (text: string) => Number(/\s([0-9.]+) Mbits\/sec/.exec(text)?.[1] ?? NaN);
  const g2 = of('g2');
  assert.ok(rate(g1) > 2.5, `bulk TCP through the bounce buffers: ${rate(g1)} Mbit/s\n${g1}`);
  assert.ok(rate(g2) > 0.5 && rate(g2) <= 2.1, `g2 → g1 held to VF 1's 2 Mbit/s by the PF's limiter: ${rate(g2)} Mbit/s\n${g2}`);

  const report = JSON.parse(readFileSync(metrics, 'utf8')) as { vms: Record<string, VmReport>; iommu: { counters: Record<string, number>; faults: { total: number }; domains: { vm: string; policy: { kind: string; size?: number } }[] } };
  assert.equal(report.iommu.faults.total, 0, 'bouncing through the window keeps every DMA inside it');
  const g1Domain = report.iommu.domains.find((d) => d.vm === 'g1')!;
  assert.equal(g1Domain.policy.kind, 'window');
  assert.equal(g1Domain.policy.size, 4 << 20);
  assert.equal(report.iommu.domains.find((d) => d.vm === 'g2')!.policy.kind, 'whole-ram');
  assert.equal(report.vms['g1']!.cost.events['interruptDirect'] ?? 0, 0, 'irq=hypervisor: no interrupt is posted directly');
  assert.ok((report.vms['g2']!.cost.events['interruptDirect'] ?? 0) > 0, 'irq=direct (the default) posts them');
});
