// FDT writer/reader tests: round trip, header layout, builder misuse, and a mutation property test of the reader.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FdtBuilder, FdtError, FDT_MAGIC, FDT_HEADER_SIZE } from '../../src/board/fdt.js';
import { parseFdt, findNode, propU32s, propU64s, propStrings, propString } from '../../src/board/fdt-reader.js';
import { buildVirtDeviceTree } from '../../src/board/virt-dt.js';

function sample(): Uint8Array {
  const b = new FdtBuilder();
  b.addReservation(0x8000_0000, 0x1000);
  b.beginNode('');
  b.propU32('#address-cells', 2);
  b.propStrings('compatible', ['a,b', 'c']);
  const ph = b.allocPhandle();
  b.beginNode('child@1000');
  b.propCells('reg', [0, 0x1000, 0, 0x10]);
  b.propU64s('big', [0x1_2345_6789n, 7]);
  b.propString('status', 'okay');
  b.propEmpty('flag');
  b.propBytes('odd', new Uint8Array([1, 2, 3]));
  b.propU32('phandle', ph);
  b.endNode();
  b.beginNode('empty');
  b.endNode();
  b.endNode();
  return b.finish();
}

test('round trip: every node and property comes back as written', () => {
  const blob = sample();
  const dv = new DataView(blob.buffer);
  assert.equal(dv.getUint32(0), FDT_MAGIC);
  assert.equal(dv.getUint32(4), blob.length);
  assert.equal(blob.length % 4, 0);
  const t = parseFdt(blob);
  assert.equal(t.version, 17);
  assert.deepEqual(t.reservations, [{ address: 0x8000_0000n, size: 0x1000n }]);
  assert.equal(t.root.name, '');
  assert.deepEqual(propU32s(t.root, '#address-cells'), [2]);
  assert.deepEqual(propStrings(t.root, 'compatible'), ['a,b', 'c']);
  const c = findNode(t.root, '/child@1000')!;
  assert.ok(c);
  assert.deepEqual(propU32s(c, 'reg'), [0, 0x1000, 0, 0x10]);
  assert.deepEqual(propU64s(c, 'big'), [0x1_2345_6789n, 7n]);
  assert.equal(propString(c, 'status'), 'okay');
  assert.equal(c.props.get('flag')!.length, 0);
  assert.deepEqual([...c.props.get('odd')!], [1, 2, 3]);
  assert.deepEqual(propU32s(c, 'phandle'), [1]);
  assert.deepEqual(findNode(t.root, '/empty')?.children, []);
  assert.equal(findNode(t.root, '/nope'), null);
});

test('property names are stored once in the strings block', () => {
  const b = new FdtBuilder();
  b.beginNode('');
  for (let i = 0; i < 10; i++) { b.beginNode(`n${i}`); b.propU32('same-name', i); b.endNode(); }
  b.endNode();
  const blob = b.finish();
  const dv = new DataView(blob.buffer);
  assert.equal(dv.getUint32(32), 'same-name'.length + 1);
  const t = parseFdt(blob);
  assert.deepEqual(t.root.children.map((n) => propU32s(n, 'same-name')![0]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('builder misuse is an FdtError', () => {
  assert.throws(() => new FdtBuilder().finish(), FdtError);
  assert.throws(() => new FdtBuilder().endNode(), FdtError);
  assert.throws(() => new FdtBuilder().beginNode('root'), FdtError);
  const b = new FdtBuilder();
  b.beginNode('');
  assert.throws(() => b.propU32('x', -1), FdtError);
  assert.throws(() => b.propU32('x', 2 ** 32), FdtError);
  assert.throws(() => b.propU64('x', -1n), FdtError);
  assert.throws(() => b.propString('x', 'a\0b'), FdtError);
  assert.throws(() => b.beginNode('a/b'), FdtError);
  assert.throws(() => b.finish(), FdtError);
});

test('reader rejects truncated and corrupt headers with FdtError', () => {
  const blob = sample();
  assert.throws(() => parseFdt(blob.subarray(0, 39)), FdtError);
  assert.throws(() => parseFdt(blob.subarray(0, blob.length - 4)), FdtError); // totalsize > length
  const bad = blob.slice();
  bad[0] = 0;
  assert.throws(() => parseFdt(bad), /magic/);
  const v = blob.slice();
  new DataView(v.buffer).setUint32(20, 1); // version 1
  assert.throws(() => parseFdt(v), /version/);
});

/** xorshift32: a repeatable random stream. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}

test('property: random mutations of valid blobs give a tree or an FdtError, never another exception', () => {
  const bases = [sample(), buildVirtDeviceTree({
    harts: 2, ramBase: 0x8000_0000, ramSize: 1 << 28, isa: { base: 'rv64imafdc', extensions: ['zicsr'] },
    mmuType: 'riscv,sv39', timebaseFrequency: 10_000_000, bootargs: 'console=ttyS0',
  })];
  const r = rng(0xfd7);
  let trees = 0;
  let errors = 0;
  for (let i = 0; i < 4000; i++) {
    let blob = bases[i & 1]!.slice();
    const n = 1 + (r() % 4);
    for (let k = 0; k < n; k++) {
      const kind = r() % 5;
      const pos = r() % blob.length;
      if (kind === 0) blob[pos] = r() & 0xff;
      else if (kind === 1) blob[pos] = blob[pos]! ^ (1 << (r() % 8));
      else if (kind === 2 && pos + 4 <= blob.length) new DataView(blob.buffer).setUint32(pos & ~3, r() % 3 === 0 ? r() : r() % 512);
      else if (kind === 3) blob = blob.slice(0, FDT_HEADER_SIZE + (r() % blob.length));
      else {
        const grown = new Uint8Array(blob.length + 4 * (r() % 8));
        grown.set(blob);
        blob = grown;
      }
    }
    try {
      const t = parseFdt(blob);
      assert.equal(typeof t.root.name, 'string');
      trees++;
    } catch (e) {
      if (!(e instanceof FdtError)) throw new Error(`iteration ${i}: ${String(e)}`);
      errors++;
    }
  }
  assert.ok(trees > 0 && errors > 0, `both outcomes should occur (trees ${trees}, errors ${errors})`);
});

test('reader accepts a blob inside a larger buffer (non-zero byteOffset)', () => {
  const blob = sample();
  const big = new Uint8Array(blob.length + 12);
  big.set(blob, 12);
  const t = parseFdt(big.subarray(12));
  assert.deepEqual(propU32s(findNode(t.root, '/child@1000')!, 'reg'), [0, 0x1000, 0, 0x10]);
});

test('reader bounds hostile structures: deep nesting, a missing FDT_END', () => {
  const b = new FdtBuilder();
  b.beginNode('');
  for (let i = 0; i < 70; i++) b.beginNode(`d${i}`);
  for (let i = 0; i < 70; i++) b.endNode();
  b.endNode();
  assert.throws(() => parseFdt(b.finish()), /deeper/);
  const ok = sample();
  const dv = new DataView(ok.buffer);
  const structOff = dv.getUint32(8);
  const structSize = dv.getUint32(36);
  dv.setUint32(structOff + structSize - 4, 0x4); // FDT_END -> FDT_NOP
  assert.throws(() => parseFdt(ok), FdtError);
});
