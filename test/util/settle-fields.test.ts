// util/settle-fields.ts: the fields keep their values and the shape V8 gives them is the final one (checked with
// V8's own test hooks in a child process, since they need --allow-natives-syntax).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { settleFields } from '../../src/util/settle-fields.js';

class Sample {
  addr = 0;
  count = 7;
  flag = false;
  name = 'x';
  private hidden = 3;
  peek(): number { return this.hidden; }
}

test('settleFields keeps every value and refuses a field that is not a number (or boolean, for changing)', () => {
  const s = new Sample();
  settleFields(s, ['addr', 'count', 'hidden'], ['flag']);
  assert.deepEqual([s.addr, s.count, s.flag, s.name, s.peek()], [0, 7, false, 'x', 3]);
  assert.throws(() => settleFields(s, ['name']), /name is not a number field/);
  assert.throws(() => settleFields(s, ['missing']), /missing is not a number field/);
  assert.throws(() => settleFields(s, [], ['name']), /name is not a number or boolean field/);
});

test('code optimized for a settled object survives its first double; for an unsettled one it is thrown away', () => {
  const mod = fileURLToPath(new URL('../../src/util/settle-fields.js', import.meta.url));
  const script = `
    const { settleFields } = await import(${JSON.stringify(mod)});
    // (two classes: V8 keeps a field's representation for every object of the shape, settled or not)
    class Settled { constructor() { this.a = 0; this.b = 1; settleFields(this, ['a'], ['b']); } }
    class Plain { constructor() { this.a = 0; this.b = 1; } }
    function sumSettled(p) { return p.a + p.b; }
    function sumPlain(p) { return p.a + p.b; }
    const kept = [];
    for (const [P, sum] of [[Settled, sumSettled], [Plain, sumPlain]]) {
      const p = new P();
      %PrepareFunctionForOptimization(sum); sum(p); sum(p); %OptimizeFunctionOnNextCall(sum); sum(p);
      const before = %ActiveTierIsTurbofan(sum);
      p.a = -2147479552.5; // a kernel address, say
      sum(p);
      kept.push(before && %ActiveTierIsTurbofan(sum));
    }
    console.log(JSON.stringify(kept));`;
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim()), [true, false]);
});
