// vmio's xenstored (src/devices/xen/xenstore.ts, xs-tree.ts, xs-watch.ts) over the ring (xs-ring.ts), driven by a
// guest-side client on a real ring page: the operations Linux's xenbus uses, per-domain permissions, watches with
// their first firing, transactions with conflict detection, quotas, and the ring under wrap and backpressure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HVM_PARAM_STORE_EVTCHN, HVM_PARAM_STORE_PFN } from '../../../src/devices/xen/abi.js';
import { XenHost } from '../../../src/devices/xen/host.js';
import { setupHostGuest } from '../../../src/devices/xen/testing/setup.js';
import { QUOTA_TRANSACTIONS } from '../../../src/devices/xen/xenstore.js';
import { XS_GET_DOMAIN_PATH, XS_ERROR, XS_READ, XS_WRITE, XS_INTRODUCE } from '../../../src/devices/xen/xs-wire.js';
import { bytesOf, textOf } from '../../../src/devices/xen/xs-text.js';

test('the toolstack\'s part: STORE_PFN and STORE_EVTCHN point at a live ring; the domain has its home', () => {
  const { xs, xen, host } = setupHostGuest();
  assert.equal(xen.domain.params.get(HVM_PARAM_STORE_EVTCHN), BigInt(xs.port));
  assert.equal(Number(xen.domain.params.get(HVM_PARAM_STORE_PFN)) * 4096, xs.ring);
  assert.equal(xs.read('domid'), '1');
  assert.equal(xs.read('/local/domain/1/name'), 'vmio-dom1');
  assert.deepEqual(xs.getPerms('device'), ['n1']);
  const r = xs.request(XS_GET_DOMAIN_PATH, bytesOf('7\0'));
  assert.equal(textOf(r.payload), '/local/domain/7\0');
  assert.equal(host.xenstore.counters.requests['GET_DOMAIN_PATH'], 1);
});

test('READ, WRITE, MKDIR, DIRECTORY and RM, with xenstored\'s rules for missing nodes and bad paths', () => {
  const { xs } = setupHostGuest();
  xs.write('data/a/b/c', 'hello');
  assert.equal(xs.read('data/a/b/c'), 'hello');
  assert.equal(xs.read('data/a/b'), '', 'intermediate nodes are created empty');
  xs.mkdir('data/a/d');
  xs.mkdir('data/a/d');
  assert.deepEqual(xs.directory('data/a'), ['b', 'd']);
  xs.write('data/bin', '\u0001\u00ff');
  assert.equal(xs.read('data/bin'), '\u0001\u00ff');
  xs.rm('data/a');
  assert.equal(xs.errorOf(() => xs.read('data/a/b/c')), 'ENOENT');
  xs.rm('data/a'); // missing, but its parent exists: not an error
  assert.equal(xs.errorOf(() => xs.rm('data/x/y')), 'ENOENT');
  assert.equal(xs.errorOf(() => xs.rm('/')), 'EINVAL', 'the root is never removable');
  for (const bad of ['data//x', 'data/x/', 'data/sp ace', '', '/local/domain/1/../0', 'data/' + 'x'.repeat(2100)]) {
    assert.equal(xs.errorOf(() => xs.write(bad, 'v')), 'EINVAL', bad.slice(0, 20));
  }
  // A READ whose path is not a single NUL-terminated string.
  assert.equal(xs.request(XS_READ, bytesOf('data')).type, XS_ERROR);
  assert.equal(xs.request(XS_READ, bytesOf('data\0x\0')).type, XS_ERROR);
  assert.equal(xs.request(XS_WRITE, bytesOf('data/nul')).type, XS_ERROR, 'WRITE without a NUL after the path');
  assert.equal(xs.request(99, bytesOf('')).type, XS_ERROR);
  assert.equal(textOf(xs.request(XS_INTRODUCE, bytesOf('2\0')).payload), 'EACCES\0');
});

test('per-domain permissions: a guest reads another domain\'s keys only where a permission says so', () => {
  const host = new XenHost();
  const a = setupHostGuest(host, { id: 1 });
  const b = setupHostGuest(host, { id: 2 });
  b.xs.write('data/secret', 's');
  assert.equal(a.xs.errorOf(() => a.xs.read('/local/domain/2/data/secret')), 'EACCES');
  assert.equal(a.xs.errorOf(() => a.xs.write('/local/domain/2/data/x', 'v')), 'EACCES');
  assert.equal(a.xs.errorOf(() => a.xs.directory('/local/domain/2/data')), 'EACCES');
  assert.equal(a.xs.errorOf(() => a.xs.write('/local/domain/0/backend/evil', '1')), 'EACCES');
  assert.equal(a.xs.errorOf(() => a.xs.write('/tool', '1')), 'EACCES');
  // The owner shares one node.
  b.xs.setPerms('data/secret', ['n2', 'r1']);
  assert.equal(a.xs.read('/local/domain/2/data/secret'), 's');
  assert.equal(a.xs.errorOf(() => a.xs.write('/local/domain/2/data/secret', 'x')), 'EACCES');
  assert.equal(a.xs.errorOf(() => a.xs.setPerms('/local/domain/2/data/secret', ['n1'])), 'EACCES', 'not the owner');
  assert.equal(b.xs.errorOf(() => b.xs.setPerms('data/secret', ['n1'])), 'EACCES', 'cannot give a node away');
  assert.equal(b.xs.errorOf(() => b.xs.setPerms('data/secret', ['q2'])), 'EINVAL');
  assert.deepEqual(b.xs.getPerms('data/secret'), ['n2', 'r1']);
  // vmio may do anything.
  host.xenstore.write('/local/domain/2/data/secret', 'vmio');
  assert.equal(b.xs.read('data/secret'), 'vmio');
});

test('the domain home: readable by its guest, not by others; node quota per domain', () => {
  const host = new XenHost();
  const a = setupHostGuest(host, { id: 1 });
  setupHostGuest(host, { id: 2 });
  assert.equal(a.xs.errorOf(() => a.xs.read('/local/domain/2/domid')), 'EACCES');
  let err: string | null = null;
  for (let i = 0; i < 1100 && err === null; i++) err = a.xs.errorOf(() => a.xs.write(`data/n${i}`, 'x'));
  assert.equal(err, 'ENOSPC');
  assert.equal(a.xs.errorOf(() => a.xs.write('data/big', 'x'.repeat(2049))), 'ENOSPC');
});

test('watches: the first firing, changes below, removal of an ancestor, relative paths, permissions, UNWATCH', () => {
  const host = new XenHost();
  const a = setupHostGuest(host, { id: 1 });
  const b = setupHostGuest(host, { id: 2 });
  const xs = a.xs;
  xs.watch('data/w', 'tok');
  assert.deepEqual(xs.events, [['data/w', 'tok']], 'fires once at registration');
  xs.write('data/w/x/y', '1');
  xs.write('data/other', '1');
  xs.watch('/local/domain/1/data/w/x', 'abs');
  xs.rm('data/w');
  assert.deepEqual(xs.events.slice(1), [
    ['data/w/x/y', 'tok'], ['/local/domain/1/data/w/x', 'abs'], ['data/w', 'tok'], ['/local/domain/1/data/w/x', 'abs'],
  ]);
  assert.equal(xs.errorOf(() => xs.watch('data/w', 'tok')), 'EEXIST');
  xs.unwatch('data/w', 'tok');
  assert.equal(xs.errorOf(() => xs.unwatch('data/w', 'tok')), 'ENOENT');
  xs.events.length = 0;
  xs.write('data/w', '2');
  assert.deepEqual(xs.events, []);
  // A watch on another domain's node only fires for nodes the watcher may read.
  xs.watch('/local/domain/2/data', 'b');
  xs.events.length = 0;
  b.xs.write('data/hidden', '1');
  b.xs.write('data/shared', '1');
  b.xs.setPerms('data/shared', ['n2', 'r1']);
  b.xs.write('data/shared', '2');
  xs.drain();
  assert.deepEqual(xs.events, [['/local/domain/2/data/shared', 'b'], ['/local/domain/2/data/shared', 'b']]);
  xs.watch('@releaseDomain', 'special');
  assert.deepEqual(xs.events.at(-1), ['@releaseDomain', 'special']);
});

test('vmio\'s watchers run after the guest\'s request, and may write (firing the guest\'s watches in turn)', () => {
  const { xs, host } = setupHostGuest();
  const seen: string[] = [];
  host.xenstore.watch('/local/domain/1/device', (p) => {
    seen.push(p);
    if (p.endsWith('/ping')) host.xenstore.write('/local/domain/1/device/pong', 'x');
  });
  xs.watch('device/pong', 'p');
  xs.events.length = 0;
  xs.write('device/ping', '1');
  assert.deepEqual(seen, ['/local/domain/1/device/ping', '/local/domain/1/device/pong']);
  xs.drain();
  assert.deepEqual(xs.events, [['device/pong', 'p']]);
});

test('transactions: private until commit, aborted by F, EAGAIN on a conflicting change, watches fire at commit', () => {
  const { xs, host } = setupHostGuest();
  xs.write('data/k', 'v0');
  xs.watch('data', 'w');
  xs.events.length = 0;
  const t = xs.transactionStart();
  xs.write('data/k', 'v1', t);
  xs.write('data/new/deep', 'n', t);
  assert.equal(xs.read('data/k', t), 'v1');
  assert.equal(xs.read('data/k'), 'v0');
  assert.equal(xs.errorOf(() => xs.read('data/new/deep')), 'ENOENT');
  assert.deepEqual(xs.events, []);
  xs.transactionEnd(t, true);
  assert.equal(xs.read('data/new/deep'), 'n');
  assert.deepEqual(xs.events, [['data/k', 'w'], ['data/new/deep', 'w']]);
  // Abort.
  const t2 = xs.transactionStart();
  xs.rm('data/k', t2);
  xs.transactionEnd(t2, false);
  assert.equal(xs.read('data/k'), 'v1');
  // Conflict: the transaction read a node someone else changed.
  const t3 = xs.transactionStart();
  assert.equal(xs.read('data/k', t3), 'v1');
  xs.write('data/out', 'x', t3);
  host.xenstore.write('/local/domain/1/data/k', 'changed');
  assert.equal(xs.errorOf(() => xs.transactionEnd(t3, true)), 'EAGAIN');
  assert.equal(xs.errorOf(() => xs.read('data/out')), 'ENOENT');
  // An unrelated change does not conflict.
  const t4 = xs.transactionStart();
  xs.write('data/k', 'mine', t4);
  host.xenstore.write('/local/domain/1/data/unrelated', 'x');
  xs.transactionEnd(t4, true);
  assert.equal(xs.read('data/k'), 'mine');
  // A node created by someone else where the transaction found none conflicts.
  const t5 = xs.transactionStart();
  assert.equal(xs.errorOf(() => xs.read('data/later', t5)), 'ENOENT');
  host.xenstore.write('/local/domain/1/data/later', 'x');
  xs.write('data/k', 'again', t5);
  assert.equal(xs.errorOf(() => xs.transactionEnd(t5, true)), 'EAGAIN');
  assert.equal(host.xenstore.counters.conflicts, 2);
  assert.equal(host.xenstore.counters.commits, 2);
  // Bad transaction ids and limits.
  assert.equal(xs.errorOf(() => xs.read('data/k', 999)), 'ENOENT');
  assert.equal(xs.errorOf(() => xs.transactionEnd(999, true)), 'ENOENT');
  const ts = Array.from({ length: QUOTA_TRANSACTIONS }, () => xs.transactionStart());
  assert.equal(xs.errorOf(() => xs.transactionStart()), 'ENOSPC');
  for (const id of ts) xs.transactionEnd(id, false);
  assert.equal(xs.errorOf(() => xs.request(6, bytesOf('\0'), 1)), null);
});

test('the ring: messages across the wrap, payloads longer than the ring, and output waiting for a slow reader', () => {
  const { xs, host } = setupHostGuest();
  for (let i = 0; i < 40; i++) xs.write(`data/k${i}`, 'x'.repeat(37 + i));
  const long = 'y'.repeat(2000);
  xs.write('data/long', long);
  assert.equal(xs.read('data/long'), long);
  // Stop reading replies: vmio fills rsp[] and queues the rest; the guest catches up later.
  const g = xs.guest;
  const saved = xs.drain.bind(xs);
  xs.drain = () => {};
  for (let i = 0; i < 20; i++) xs.writeRaw(new Uint8Array([2, 0, 0, 0, 100 + i, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, ...bytesOf('data/long\0')]));
  assert.equal((g.r32(xs.ring + 2060) - g.r32(xs.ring + 2056)) >>> 0, 1024, 'the response ring is full');
  xs.drain = saved;
  xs.drain();
  assert.equal(host.xenstore.counters.requests['READ'], 21);
  assert.equal(xs.read('data/k39'), 'x'.repeat(76), 'the connection still works');
});
