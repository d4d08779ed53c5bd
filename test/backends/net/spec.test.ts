// Backend spec parsing: the forms the CLI takes, a clear error for each mistake, and property tests on random
// strings: parseNetSpec throws nothing but NetSpecError, its errors are one line, and what it accepts round-trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetSpecError, formatNetSpec, parseNetSpec, type NetSpec } from '../../../src/backends/net/spec.js';
import { checkInterfaceName } from '../../../src/backends/net/tap.js';

test('the accepted forms', () => {
  const cases: Array<[string, NetSpec]> = [
    ['none', { kind: 'none' }],
    ['tap=tap0', { kind: 'tap', ifname: 'tap0', pcap: null }],
    ['tap=vmio%d,pcap=/tmp/out.pcap', { kind: 'tap', ifname: 'vmio%d', pcap: '/tmp/out.pcap' }],
    ['pcap=a b=c.pcap,tap=t', { kind: 'tap', ifname: 't', pcap: 'a b=c.pcap' }],
    ['switch=br0', { kind: 'switch', name: 'br0', pcap: null }],
    ['switch=dom0.bridge-1,pcap=cap.pcap', { kind: 'switch', name: 'dom0.bridge-1', pcap: 'cap.pcap' }],
    ['pcap=guest.pcap', { kind: 'pcap', file: 'guest.pcap' }],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseNetSpec(text), want, text);
});

test('each mistake gets its own error, naming the spec and what is expected', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['tap', /"tap" is not key=value/],
    ['tap=', /tap=: an interface name has 1 to 15 bytes/],
    ['tap=averyveryverylongname', /1 to 15 bytes \(got 21\)/],
    ['tap=a/b', /cannot contain '\/'/],
    ['tap=a,tap=b', /tap= given twice/],
    ['tap=a,switch=b', /both tap= and switch=/],
    ['none,tap=a', /'none' together with|both 'none' and tap=/],
    ['none,pcap=x', /'none' takes no capture.*pcap=FILE alone/],
    ['switch=', /a switch name is 1 to 32/],
    ['switch=-x', /starting with a letter or digit/],
    ['tap=a,pcap=', /pcap= needs a file name/],
    ['pcap=a,pcap=b', /pcap= given twice/],
    ['tap=a,,pcap=b', /an empty item/],
    ['tap=a,', /an empty item/],
    ['TAP=a', /unknown key "TAP"/],
    ['user=x', /unknown key "user"/],
    ['pcap=a\0b', /NUL/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => parseNetSpec(text), (e: unknown) => {
      assert.ok(e instanceof NetSpecError, `${JSON.stringify(text)} threw ${String(e)}`);
      assert.match(e.message, re, JSON.stringify(text));
      assert.match(e.message, /^net backend "/);
      return true;
    });
  }
  assert.match((() => { try { parseNetSpec('bogus=1'); } catch (e) { return (e as Error).message; } return ''; })(), /expected tap=IFNAME, switch=NAME, pcap=FILE or none/);
});

/** A deterministic generator (xorshift32), so a failure names a seed that reproduces it. */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s % n; };
}

const TOKENS = ['tap', 'switch', 'pcap', 'none', '=', '=', ',', ',', 'tap0', 'br0', 'x.pcap', '/tmp/', ' ', '\t', '\n', '%d', '%', ':', '/', '.', '..',
  '\0', 'é', '\u{1F600}', '\ud800', 'a', '-', '_', 'TAP', 'x'.repeat(15), 'y'.repeat(40), '"', '\\'];

function randomSpec(r: (n: number) => number): string {
  const tokens = (max: number): string => { let s = ''; for (let i = r(max + 1); i > 0; i--) s += TOKENS[r(TOKENS.length)]!; return s; };
  const mode = r(3);
  if (mode === 0) {
    // Items shaped like key=value with random keys and values.
    const keys = ['tap', 'switch', 'pcap', 'pcap', 'none', 'x', ''];
    const items: string[] = [];
    for (let i = 1 + r(3); i > 0; i--) {
      const key = keys[r(keys.length)]!;
      items.push(key === 'none' ? key : `${key}=${tokens(3)}`);
    }
    return items.join(',');
  }
  if (mode === 1) {
    // Raw code units, including lone surrogates and controls.
    let s = '';
    for (let i = r(24); i > 0; i--) s += String.fromCharCode(r(3) === 0 ? r(0x10000) : r(128));
    return s;
  }
  return tokens(8);
}

test('property: random strings never make the parser throw anything but NetSpecError; errors are one line', () => {
  let accepted = 0;
  for (let seed = 1; seed <= 20_000; seed++) {
    const text = randomSpec(rng(seed));
    let spec: NetSpec;
    try {
      spec = parseNetSpec(text);
    } catch (e) {
      assert.ok(e instanceof NetSpecError, `seed ${seed}: ${JSON.stringify(text)} threw ${String(e)}`);
      assert.ok(!/[\n\r]/.test(e.message), `seed ${seed}: multi-line message ${JSON.stringify(e.message)}`);
      continue;
    }
    accepted++;
    // What is accepted is checked and canonical text parses back to the same value.
    if (spec.kind === 'tap') assert.equal(checkInterfaceName(spec.ifname), null);
    const pcap = spec.kind === 'pcap' ? spec.file : spec.kind === 'none' ? null : spec.pcap;
    if (pcap !== null) assert.ok(pcap.length > 0 && !pcap.includes(',') && !pcap.includes('\0'));
    assert.deepEqual(parseNetSpec(formatNetSpec(spec)), spec, `seed ${seed}: ${JSON.stringify(text)}`);
  }
  assert.ok(accepted > 500, `the generator reaches valid specs too (${accepted})`);
});

test('property: random valid specs parse to what was meant and format back to the same text', () => {
  const r = rng(99);
  const word = (alphabet: string, min: number, max: number): string => {
    let s = '';
    for (let i = min + r(max - min + 1); i > 0; i--) s += alphabet[r(alphabet.length)]!;
    return s;
  };
  const alnum = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  for (let i = 0; i < 5000; i++) {
    const file = r(2) === 0 ? null : word(`${alnum}/._- =é`, 1, 30);
    let spec: NetSpec;
    switch (r(4)) {
      case 0: spec = { kind: 'none' }; break;
      case 1: spec = { kind: 'tap', ifname: word(`${alnum}-_.`, 1, 15).replace(/^\.{1,2}$/, 't'), pcap: file }; break;
      case 2: spec = { kind: 'switch', name: word(alnum, 1, 1) + word(`${alnum}_.-`, 0, 31), pcap: file }; break;
      default: spec = { kind: 'pcap', file: file ?? 'f.pcap' };
    }
    const text = formatNetSpec(spec);
    assert.deepEqual(parseNetSpec(text), spec, text);
  }
});
