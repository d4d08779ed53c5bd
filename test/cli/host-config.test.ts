// The host file: every mistake is one clear line naming the VM and the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHostConfig, HostConfigError } from '../../src/cli/host-config.js';
import { hostStatus } from '../../src/cli/run-host.js';

const parse = (doc: unknown) => parseHostConfig(JSON.stringify(doc), 'host.json');

test('a valid host file gives each VM its run options and input', () => {
  const h = parse({ vms: [
    { name: 'a', memory: 64, smp: 2, drives: ['a.img'], nics: ['switch=lan'], input: 'poweroff\n' },
    { name: 'b', drives: ['shared.img,ro'], rng: 'mmio' },
    { name: 'c', drives: ['shared.img,ro'], nics: ['tap=vmio0,model=e1000'] },
  ] });
  assert.deepEqual(h.vms.map((v) => v.name), ['a', 'b', 'c']);
  assert.equal(h.vms[0]!.run.memoryMiB, 64);
  assert.equal(h.vms[0]!.run.smp, 2);
  assert.equal(h.vms[0]!.input, 'poweroff\n');
  assert.equal(h.vms[0]!.run.nics[0]!.backend.kind, 'switch');
  assert.equal(h.vms[1]!.run.rng, 'mmio');
  assert.equal(h.vms[2]!.run.nics[0]!.model, 'e1000');
});

const DD = { name: 'dd', nics: ['switch=lan,model=igb'] };

test('"vfs" assigns VFs of another VM\'s igb PF', () => {
  const h = parse({ vms: [DD, { name: 'g1', vfs: ['dd:0'] }, { name: 'g2', vfs: ['dd:1', 'dd:2'] }] });
  const plain = { dma: 'whole-ram', windowMiB: 4, irq: 'direct' };
  assert.deepEqual(h.vms.map((v) => v.vfs), [[], [{ domain: 'dd', index: 0, ...plain }], [{ domain: 'dd', index: 1, ...plain }, { domain: 'dd', index: 2, ...plain }]]);
  const o = parse({ vms: [DD, { name: 'g', vfs: ['dd:3,dma=window,window=8,irq=hypervisor'] }] });
  assert.deepEqual(o.vms[1]!.vfs, [{ domain: 'dd', index: 3, dma: 'window', windowMiB: 8, irq: 'hypervisor' }]);
});

test('each mistake is refused with one line saying what and where', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{}, /"vms" must be a non-empty list/],
    [{ vms: [], extra: 1 }, /unknown key "extra"/],
    [{ vms: [{ name: 'a', memroy: 64 }] }, /VM "a": unknown key "memroy"/],
    [{ vms: [{ name: 'a' }, { name: 'a' }] }, /two VMs are named "a"/],
    [{ vms: [{ name: 'bad name' }] }, /"name" must be/],
    [{ vms: [{ name: 'a', memory: '64' }] }, /VM "a": "memory" must be a number/],
    [{ vms: [{ name: 'a', memory: 4 }] }, /VM "a": --memory must be between/],
    [{ vms: [{ name: 'a', drives: ['x.img'] }, { name: 'b', drives: ['x.img'] }] }, /both open x\.img and one of them read-write/],
    [{ vms: [{ name: 'a', drives: ['x.img,ro'] }, { name: 'b', drives: ['x.img'] }] }, /both open x\.img/],
    [{ vms: [{ name: 'a', nics: ['tap=t0'] }, { name: 'b', nics: ['tap=t0'] }] }, /both claim TAP device t0/],
    [{ vms: [{ name: 'a', nics: ['bogus'] }] }, /VM "a": --nic/],
    [{ vms: [DD, { name: 'g', vfs: 'dd:0' }] }, /VM "g": "vfs" must be a list/],
    [{ vms: [DD, { name: 'g', vfs: ['dd'] }] }, /VM "g": "vfs" entry "dd" is not "DOMAIN:INDEX\[,dma=whole-ram\|window\]/],
    [{ vms: [DD, { name: 'g', vfs: ['dd:8'] }] }, /"vfs" entry "dd:8" is not "DOMAIN:INDEX\[,dma=/],
    [{ vms: [DD, { name: 'g', vfs: ['dd:0,dma=some'] }] }, /"vfs" entry "dd:0,dma=some": 'dma=some' is not an option/],
    [{ vms: [DD, { name: 'g', vfs: ['dd:0,window=8'] }] }, /window= sizes the restricted DMA window; add dma=window/],
    [{ vms: [DD, { name: 'g', vfs: ['dd:0,dma=window,window=0'] }] }, /'window=0' is not an option/],
    [{ vms: [DD, { name: 'g', vfs: ['dd:0', 'dd:1,irq=hypervisor'] }] }, /its "vfs" entries differ in dma=, window= or irq=/],
    [{ vms: [DD, { name: 'g', vfs: ['ee:0'] }] }, /VM "g": "vfs" entry "ee:0" names no VM of this file; the VMs are dd, g/],
    [{ vms: [{ ...DD, vfs: ['dd:0'] }] }, /VM "dd": "vfs" entry "dd:0" names this VM itself/],
    [{ vms: [{ name: 'dd', nics: ['switch=lan'] }, { name: 'g', vfs: ['dd:0'] }] }, /VM "dd" has no igb NIC/],
    [{ vms: [DD, { name: 'g', vfs: ['dd:0'], irqchip: 'plic' }] }, /VM "g": an igb VF has MSI-X only/],
    [{ vms: [DD, { name: 'g', vfs: ['dd:1'] }, { name: 'h', vfs: ['dd:1'] }] }, /VMs "g" and "h" both claim VF "dd:1"/],
  ];
  for (const [doc, re] of cases) {
    assert.throws(() => parse(doc), (e: unknown) => e instanceof HostConfigError && re.test(e.message) && !e.message.includes('\n'), `${JSON.stringify(doc)} -> ${re}`);
  }
  assert.throws(() => parseHostConfig('{ not json', 'h.json'), /h\.json is not valid JSON/);
});

test('the host exit status is the worst of its VMs', () => {
  assert.equal(hostStatus([{ kind: 'poweroff' }, { kind: 'poweroff' }]), 0);
  assert.equal(hostStatus([{ kind: 'poweroff' }, { kind: 'fail', code: 1, why: 'x' }]), 1);
  assert.equal(hostStatus([{ kind: 'timeout' }, { kind: 'panic' }]), 124);
  assert.equal(hostStatus([{ kind: 'error', error: new Error('x') }, { kind: 'timeout' }]), 3);
});
