// Cost profiles: the default figures are complete, sourced and ordered as the literature has them; profile files
// override a base and every malformed file is refused with one actionable line; the meter charges the figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COST_KINDS, COST_OFF, CostMeter, type CostTable } from '../../src/metrics/cost.js';
import {
  CostProfileError, DEFAULT_PROFILE, KVM_X86, PROFILES, loadCostProfile,
} from '../../src/metrics/cost-profiles.js';

const dir = mkdtempSync(join(tmpdir(), 'vmio-cost-'));
let files = 0;
/** Writes `content` (an object is JSON-encoded) to a fresh .json file and returns its path. */
function profileFile(content: unknown): string {
  const path = join(dir, `profile-${files++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** The orderings the published measurements imply (docs/cost-model.md), as a list of violations. */
function orderingViolations(c: CostTable): string[] {
  const out: string[] = [];
  if (!(c.direct < c.interruptDirect)) out.push('direct < interruptDirect');
  if (!(c.interruptDirect < c.notify)) out.push('interruptDirect < notify');
  if (!(c.notify <= c.exitKernel)) out.push('notify <= exitKernel');
  if (!(c.exitKernel < c.exitUser)) out.push('exitKernel < exitUser');
  if (!(c.interruptInject > c.interruptDirect)) out.push('interruptInject > interruptDirect');
  return out;
}

test('kvm-x86 gives every cost kind a finite, non-negative value and a source', () => {
  for (const k of COST_KINDS) {
    const v = KVM_X86.costs[k];
    assert.ok(Number.isFinite(v) && v >= 0, `${k} = ${v}`);
    const src = KVM_X86.sources?.[k];
    assert.ok(typeof src === 'string' && src.length > 40, `${k} has a citation`);
  }
  assert.equal(Object.keys(KVM_X86.costs).length, COST_KINDS.length, 'no extra kinds');
});

test('each non-zero kvm-x86 figure appears in its own source text, so a changed value cannot keep a stale citation', () => {
  for (const k of COST_KINDS) {
    if (k === 'direct') continue;
    assert.ok(KVM_X86.sources?.[k]?.includes(String(KVM_X86.costs[k])), `${k}'s source states ${KVM_X86.costs[k]}`);
  }
  assert.equal(KVM_X86.costs.direct, 0);
  assert.match(KVM_X86.sources?.direct ?? '', /no exit/);
});

test('figures without a measurement are labelled as estimates', () => {
  assert.match(KVM_X86.sources?.interruptDirect ?? '', /^ESTIMATE/);
  assert.match(KVM_X86.sources?.iotlbMiss ?? '', /^ESTIMATE/);
});

test('the ordering check catches a profile that inverts the literature', () => {
  const inverted: CostTable = { ...KVM_X86.costs, exitUser: 100, interruptInject: 10 };
  assert.deepEqual(orderingViolations(inverted), ['exitKernel < exitUser', 'interruptInject > interruptDirect']);
  assert.deepEqual(orderingViolations({ ...KVM_X86.costs, interruptDirect: 0 }), ['direct < interruptDirect']);
});

test('kvm-x86 orders the costs as the literature does', () => {
  assert.deepEqual(orderingViolations(KVM_X86.costs), []);
  assert.ok(KVM_X86.costs.hypercall < KVM_X86.costs.exitUser, 'a hypercall never reaches user space');
});

test('the built-in profiles are kvm-x86 (the default) and off, by name and through the loader', () => {
  assert.deepEqual([...PROFILES.keys()], ['kvm-x86', 'off']);
  assert.equal(DEFAULT_PROFILE, KVM_X86);
  assert.equal(loadCostProfile('kvm-x86'), KVM_X86);
  assert.equal(loadCostProfile('off'), COST_OFF);
  assert.throws(() => { (KVM_X86.costs as CostTable).exitUser = 1; }, TypeError, 'the shared default is frozen');
});

test('a profile file overrides some costs of kvm-x86 and keeps the rest with their sources', () => {
  const path = profileFile({
    name: 'bare-metal-lab', costs: { exitUser: 20000, copyPerByte: 0.1 }, sources: { exitUser: 'measured in our lab' },
  });
  const p = loadCostProfile(path);
  assert.equal(p.name, 'bare-metal-lab');
  assert.equal(p.costs.exitUser, 20000);
  assert.equal(p.costs.copyPerByte, 0.1);
  assert.equal(p.costs.notify, KVM_X86.costs.notify);
  assert.equal(p.sources?.exitUser, 'measured in our lab');
  assert.match(p.sources?.copyPerByte ?? '', /overridden by .*profile-\d+\.json \(no source given\)/);
  assert.equal(p.sources?.notify, KVM_X86.sources?.notify);
  assert.equal(KVM_X86.costs.exitUser, 8070, 'the base is not modified');
});

test('a profile file may start from off, and is named after its path when it gives no name', () => {
  const path = profileFile({ base: 'off', costs: { exitUser: 5 } });
  const p = loadCostProfile(path);
  assert.equal(p.name, path);
  assert.equal(p.costs.exitUser, 5);
  for (const k of COST_KINDS) if (k !== 'exitUser') assert.equal(p.costs[k], 0, k);
});

/** Asserts that loading `spec` throws a one-line CostProfileError matching `re`. */
function refuses(spec: string, re: RegExp): void {
  assert.throws(() => loadCostProfile(spec), (e: unknown) => {
    assert.ok(e instanceof CostProfileError, `a CostProfileError, got ${String(e)}`);
    assert.equal(e.name, 'CostProfileError');
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    return true;
  });
}

test('an unknown profile name and a missing file are told apart', () => {
  refuses('kvm-arm', /^unknown cost profile 'kvm-arm': give one of kvm-x86, off, or a path/);
  refuses(join(dir, 'absent.json'), /^cost profile file '.*absent\.json' does not exist: check the path/);
  refuses('', /^empty cost profile/);
  const sub = join(dir, 'a-directory.json');
  mkdirSync(sub);
  refuses(sub, /is a directory/);
});

test('bad JSON and a non-object document are refused', () => {
  refuses(profileFile('{"costs": {"exitUser": 1,}}'), /is not valid JSON \(.+\): fix the file$/);
  refuses(profileFile([1, 2]), /must hold a JSON object .* got an array$/);
  refuses(profileFile('42'), /must hold a JSON object .* got 42$/);
});

test('unknown keys, at the top and among the costs, are refused with the allowed names', () => {
  refuses(profileFile({ costs: {}, extra: 1 }), /unknown key 'extra': allowed keys are name, base, costs, sources$/);
  refuses(profileFile({ costs: { exitUsr: 1 } }), /unknown cost kind "costs\.exitUsr": known kinds are exitUser, /);
  refuses(profileFile({ costs: { exitUser: 1 }, sources: { bogus: 'x' } }), /unknown cost kind "sources\.bogus"/);
});

test('non-numbers, negative and non-finite costs are refused', () => {
  refuses(profileFile({ costs: { exitUser: '8070' } }), /"costs\.exitUser" must be a finite number >= 0 .* got "8070"$/);
  refuses(profileFile({ costs: { notify: null } }), /"costs\.notify" must be a finite number >= 0 .* got null$/);
  refuses(profileFile({ costs: { eoi: -1 } }), /"costs\.eoi" must be a finite number >= 0 .* got -1$/);
  refuses(profileFile('{"costs": {"iotlbMiss": 1e999}}'), /"costs\.iotlbMiss" must be a finite number >= 0 .* got Infinity$/);
  refuses(profileFile({ costs: { hypercall: true } }), /"costs\.hypercall" must be a finite number/);
});

test('a missing or malformed costs object, a bad base, name or source is refused', () => {
  refuses(profileFile({ name: 'x' }), /has no "costs": add an object of overrides/);
  refuses(profileFile({ costs: [1] }), /"costs" must be an object .* got an array$/);
  refuses(profileFile({ base: 'xen', costs: {} }), /unknown "base" "xen": use one of kvm-x86, off$/);
  refuses(profileFile({ base: 7, costs: {} }), /"base" must be a string, got 7$/);
  refuses(profileFile({ name: '', costs: {} }), /"name" must be a non-empty string/);
  refuses(profileFile({ costs: { exitUser: 1 }, sources: { notify: 'paper' } }),
    /"sources\.notify" cites a cost the file does not set/);
  refuses(profileFile({ costs: { exitUser: 1 }, sources: { exitUser: 3 } }), /"sources\.exitUser" must be a non-empty string/);
});

test('a CostMeter with kvm-x86 charges each kind its figure and sums them for the sink', () => {
  const meter = new CostMeter(KVM_X86);
  const sunk: number[] = [];
  meter.sink = (n) => sunk.push(n);
  meter.charge('exitUser', 2);
  meter.charge('notify');
  meter.charge('copyPerByte', 1500);
  meter.charge('direct', 10);
  const expected = 2 * 8070 + 1746 + 1500 * 0.35;
  assert.equal(meter.charged.exitUser, 16140);
  assert.equal(meter.charged.notify, 1746);
  assert.ok(Math.abs(meter.charged.copyPerByte - 525) < 1e-9);
  assert.equal(meter.events.direct, 10, 'direct accesses are counted');
  assert.equal(meter.charged.direct, 0, 'but cost nothing');
  assert.deepEqual(sunk.length, 3, 'a zero charge does not reach the sink');
  assert.ok(Math.abs(meter.total - expected) < 1e-9);
  assert.ok(Math.abs(sunk.reduce((a, b) => a + b, 0) - expected) < 1e-9);
});

test('a CostMeter with a loaded profile charges the overridden figure, and off charges nothing', () => {
  const meter = new CostMeter(loadCostProfile(profileFile({ costs: { hypercall: 4000 } })));
  meter.charge('hypercall', 3);
  meter.charge('eoi');
  assert.equal(meter.total, 3 * 4000 + KVM_X86.costs.eoi);
  const off = new CostMeter(loadCostProfile('off'));
  let called = false;
  off.sink = () => { called = true; };
  off.charge('exitUser', 100);
  assert.equal(off.total, 0);
  assert.equal(off.events.exitUser, 100);
  assert.equal(called, false);
});
