// Seeded random map / unmap / invalidate / access sequences against a reference model (a Map from IOVA page to
// its host page and permission). Every access must succeed exactly when the model says so, read what the model
// says was written, and fault with exactly one log record otherwise; at the end RAM must equal the model's shadow
// copy, byte for byte. The checker is first shown to catch two broken IOMMUs (one that forgets invalidations, one
// that ignores read-only), so its silence on the real one means something.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DMA_OK } from '../../src/memory/dma.js';
import { Iommu, IommuMapError, type IommuPerms } from '../../src/iommu/iommu.js';
import type { IommuDomain } from '../../src/iommu/domain.js';
import { IommuDmaSpace } from '../../src/iommu/dma-space.js';
import { seededRandom } from '../../src/board/testing/random.js';
import { RAM_BASE, RAM_SIZE, VF_RID, vm } from './harness.js';

const P = 4096;
/** The IOVA pages explored: 16 MiB around RAM, so mappings collide and accesses land outside them too. */
const IOVA0 = RAM_BASE - (4 << 20);
const IOVA_PAGES = 4096;
const RAM_PAGES = RAM_SIZE / P;

type Make = () => Iommu;

/** What a run exercised (so the property test can show it covered superpages, splits and both outcomes). */
interface Coverage { allowed: number; refused: number; superpages: number; splits: number }

/** Runs `ops` random operations; returns a description of the first disagreement with the model, or null. */
function check(seed: number, make: Make, ops = 1500, cov: Coverage = { allowed: 0, refused: 0, superpages: 0, splits: 0 }): string | null {
  const rnd = seededRandom(seed);
  const r = (n: number) => rnd() % n;
  const iommu = make();
  const a = vm('a');
  const d = iommu.createDomain('a', a.ram);
  iommu.attach(VF_RID, d);
  const dma = new IommuDmaSpace(a.bus, a.metrics.dma('vf'), iommu, VF_RID, d);
  const model = new Map<number, { host: number; w: boolean }>(); // IOVA page → RAM offset of its host page
  const shadow = new Uint8Array(RAM_SIZE);
  for (let op = 0; op < ops; op++) {
    const at = `seed ${seed} op ${op}`;
    const kind = r(100);
    if (kind < 25) {
      const superpage = r(4) === 0;
      const pages = superpage ? 512 : 1 + r(r(2) === 0 ? 4 : 64);
      const first = superpage ? r(IOVA_PAGES / 512) * 512 : r(IOVA_PAGES - pages);
      const host = superpage ? r(RAM_PAGES / 512) * 512 : r(RAM_PAGES - pages);
      const perms: IommuPerms = r(3) === 0 ? 'r' : 'rw';
      let taken = false;
      for (let k = 0; k < pages; k++) taken ||= model.has(first + k);
      try {
        const before = d.table.leavesByLevel[1]!;
        iommu.map(d, IOVA0 + first * P, d.hostPa(RAM_BASE + host * P), pages * P, perms);
        if (taken) return `${at}: mapping over a mapped page was accepted`;
        cov.superpages += d.table.leavesByLevel[1]! - before;
        for (let k = 0; k < pages; k++) model.set(first + k, { host: (host + k) * P, w: perms === 'rw' });
      } catch (e) {
        if (!(e instanceof IommuMapError) || !taken) return `${at}: map refused unexpectedly: ${String(e)}`;
      }
    } else if (kind < 40) {
      const pages = 1 + r(r(4) === 0 ? 1024 : 16);
      const first = r(IOVA_PAGES - pages);
      let expect = 0;
      for (let k = 0; k < pages; k++) if (model.delete(first + k)) expect += P;
      const small = d.table.leavesByLevel[0]!;
      const got = iommu.unmap(d, IOVA0 + first * P, pages * P);
      if (d.table.leavesByLevel[0]! > small) cov.splits++;
      if (got !== expect) return `${at}: unmap returned ${got}, model ${expect}`;
    } else if (kind < 50) {
      const k = r(3);
      if (k === 0) iommu.iotinvalGvma();
      else if (k === 1) iommu.iotinvalGvma(d.gscid);
      else iommu.iotinvalGvma(d.gscid, IOVA0 + r(IOVA_PAGES) * P);
    } else {
      const err = access(r, dma, model, shadow, a.ram.slice.bind(a.ram), iommu, at, cov);
      if (err !== null) return err;
    }
  }
  const ram = a.ram.slice(RAM_BASE, RAM_SIZE);
  for (let i = 0; i < RAM_SIZE; i++) if (ram[i] !== shadow[i]) return `seed ${seed}: RAM byte 0x${i.toString(16)} differs from the model`;
  iommu.destroyDomain((iommu.detach(VF_RID), d));
  return null;
}

/** One random read or write (a 32-bit scalar in a page, or a block across a page boundary). */
function access(
  r: (n: number) => number, dma: IommuDmaSpace, model: Map<number, { host: number; w: boolean }>, shadow: Uint8Array,
  slice: (addr: number, len: number) => Uint8Array, iommu: Iommu, at: string, cov: Coverage,
): string | null {
  const write = r(2) === 0;
  const block = r(4) === 0;
  // Half the accesses go to a mapped page (or its neighbour), half anywhere.
  const mapped = model.size > 0 && r(2) === 0 ? [...model.keys()][r(model.size)]! : -1;
  const page = Math.min(mapped >= 0 ? mapped : r(IOVA_PAGES - 1), IOVA_PAGES - 2);
  const off = block ? P - 8 : r(P / 4) * 4;
  const len = block ? 16 : 4;
  const pages = block ? [page, page + 1] : [page];
  const allowed = pages.every((p) => model.get(p) !== undefined && (!write || model.get(p)!.w));
  const faultsBefore = iommu.faults.total;
  const iova = IOVA0 + page * P + off;
  const data = Uint8Array.from({ length: len }, () => r(256));
  let ok: boolean;
  let got: Uint8Array | null = null;
  if (write) ok = (block ? dma.write(iova, data) : dma.write32(iova, new DataView(data.buffer).getUint32(0, true))) === DMA_OK;
  else if (block) { got = new Uint8Array(len); ok = dma.read(iova, got) === DMA_OK; }
  else { const v = dma.read32(iova); ok = v >= 0; got = new Uint8Array(new Uint32Array([v >>> 0]).buffer); }
  if (ok !== allowed) return `${at}: ${write ? 'write' : 'read'} of ${len} at 0x${iova.toString(16)} ${ok ? 'succeeded' : 'faulted'}; the model says ${allowed ? 'allowed' : 'fault'}`;
  if (ok) cov.allowed++; else cov.refused++;
  if (!ok) return iommu.faults.total === faultsBefore + 1 ? null : `${at}: ${iommu.faults.total - faultsBefore} fault records for one refused access`;
  for (let i = 0; i < len; i++) {
    const p = model.get(page + Math.floor((off + i) / P))!;
    const ramOff = p.host + ((off + i) % P);
    if (write) shadow[ramOff] = data[i]!;
    else if (got![i] !== shadow[ramOff]) return `${at}: read byte ${i} = ${got![i]}, the model has ${shadow[ramOff]}`;
  }
  if (write && slice(RAM_BASE + model.get(page)!.host + off, 1)[0] !== data[0]) return `${at}: the write did not land on its host page`;
  return null;
}

/** Forgets every IOTINVAL.GVMA: a stale translation survives unmap. */
class ForgetfulIommu extends Iommu {
  override iotinvalGvma(): void {}
}

/** Maps read-only pages writable. */
class PermissiveIommu extends Iommu {
  override map(d: IommuDomain, iova: number, hostPa: number, len: number): void { super.map(d, iova, hostPa, len, 'rw'); }
}

test('the checker catches an IOMMU that skips invalidations and one that ignores read-only', () => {
  const forgetful = check(1, () => new ForgetfulIommu({ tableBytes: 4 << 20 }));
  assert.match(forgetful ?? '', /succeeded; the model says fault/);
  const permissive = check(1, () => new PermissiveIommu({ tableBytes: 4 << 20 }));
  assert.match(permissive ?? '', /write of .* succeeded; the model says fault/);
});

test('property: random map/unmap/invalidate/access sequences agree with the reference model', () => {
  const cov: Coverage = { allowed: 0, refused: 0, superpages: 0, splits: 0 };
  for (const seed of [1, 2, 3, 0xdead_beef]) {
    assert.equal(check(seed, () => new Iommu({ tableBytes: 4 << 20 }), 1500, cov), null);
  }
  assert.ok(cov.allowed > 1000 && cov.refused > 1000 && cov.superpages > 10 && cov.splits > 5, `coverage ${JSON.stringify(cov)}`);
  assert.equal(check(7, () => new Iommu({ tableBytes: 4 << 20, iotlbEntries: 4 })), null, 'a tiny IOTLB: constant eviction');
});
