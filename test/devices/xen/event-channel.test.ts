// 2-level event channels (src/devices/xen/event-channel.ts): binding between a guest and vmio, delivery into
// shared_info and vcpu_info with the upcall on the 0 -> 1 edge, masking and re-raise on unmask, close, bind_vcpu,
// status, guest-to-guest channels, and vmio's handlers running one at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EINVAL, ENOENT, ENOSPC, ESRCH, EVTCHNOP_bind_interdomain, EVTCHNOP_bind_vcpu, EVTCHNOP_close, EVTCHNOP_status,
  EVTCHNSTAT_closed, EVTCHNSTAT_interdomain, EVTCHNSTAT_unbound, __HYPERVISOR_event_channel_op,
} from '../../../src/devices/xen/abi.js';
import { EventChannels } from '../../../src/devices/xen/event-channel.js';
import { setupGuest } from '../../../src/devices/xen/testing/setup.js';

function connected() {
  const s = setupGuest({ vcpus: 2 });
  s.guest.boot(1);
  s.guest.takeEvents();
  let runs = 0;
  const port = s.guest.allocUnbound(0);
  const vmioPort = s.evtchn.bindInterdomain(0, 1, port, () => { runs++; });
  return { ...s, port, vmioPort, runs: () => runs };
}

test('a guest port bound by vmio: guest sends run vmio\'s handler; the bind itself sets vmio\'s port pending', () => {
  const c = connected();
  assert.ok(c.port >= 1 && c.vmioPort >= 1);
  assert.equal(c.runs(), 1, 'Xen marks the newly bound port pending');
  assert.equal(c.guest.send(c.port), 0);
  assert.equal(c.guest.send(c.port), 0);
  assert.equal(c.runs(), 3);
  assert.equal(c.evtchn.counters.toVmio, 2);
});

test('vmio sends set pending, selector and upcall_pending, and raise the upcall only on the 0 -> 1 edge', () => {
  const c = connected();
  const before = c.guest.upcalls[0]!;
  c.evtchn.send(0, c.vmioPort);
  assert.ok(c.guest.isPending(c.port));
  assert.equal(c.guest.upcallPending(), 1);
  assert.equal(c.guest.upcalls[0], before + 1);
  c.evtchn.send(0, c.vmioPort);
  assert.equal(c.guest.upcalls[0], before + 1, 'already pending: coalesced');
  assert.equal(c.evtchn.counters.alreadyPending, 1);
  assert.deepEqual(c.guest.takeEvents(), [c.port]);
  c.evtchn.send(0, c.vmioPort);
  assert.equal(c.guest.upcalls[0], before + 2);
  assert.equal(c.evtchn.counters.toGuest, 3);
});

test('a masked port stays pending without an upcall; unmasking it re-raises, unmasking an idle port does not', () => {
  const c = connected();
  const before = c.guest.upcalls[0]!;
  c.guest.mask(c.port);
  c.evtchn.send(0, c.vmioPort);
  assert.ok(c.guest.isPending(c.port));
  assert.equal(c.guest.upcallPending(), 0);
  assert.equal(c.guest.upcalls[0], before);
  assert.equal(c.evtchn.counters.masked, 1);
  assert.equal(c.guest.unmask(c.port), 0);
  assert.equal(c.guest.upcalls[0], before + 1);
  assert.deepEqual(c.guest.takeEvents(), [c.port]);
  c.guest.mask(c.port);
  assert.equal(c.guest.unmask(c.port), 0);
  assert.equal(c.guest.upcalls[0], before + 1);
  assert.equal(c.guest.unmask(999), -EINVAL);
});

test('close: the peer falls back to unbound and its sends are dropped; bad ports and domains are refused', () => {
  const c = connected();
  const s = c.guest.scratch;
  c.guest.w32(s, c.port);
  assert.equal(c.guest.hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_close, s), 0);
  assert.deepEqual(c.evtchn.status(0, c.vmioPort), { status: EVTCHNSTAT_unbound, vcpu: 0, dom: 1, port: 0, virq: 0 });
  assert.equal(c.evtchn.send(0, c.vmioPort), 0);
  assert.equal(c.evtchn.counters.unbound, 1);
  assert.equal(c.guest.send(c.port), -EINVAL);
  assert.equal(c.guest.send(0), -EINVAL);
  assert.equal(c.guest.send(0xffff_ffff), -EINVAL);
  // bind_interdomain to a port not offered to this domain, or in a domain that does not exist.
  const offeredTo5 = c.evtchn.allocUnbound(0, 5);
  c.guest.w16(s, 0); c.guest.w32(s + 4, offeredTo5);
  assert.equal(c.guest.hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_interdomain, s), -EINVAL);
  c.guest.w16(s, 9);
  assert.equal(c.guest.hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_interdomain, s), -ESRCH);
  // A guest binding a port vmio offered it.
  const offered = c.evtchn.allocUnbound(0, 1, () => {});
  c.guest.w16(s, 0); c.guest.w32(s + 4, offered);
  assert.equal(c.guest.hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_interdomain, s), 0);
  assert.equal((c.evtchn.status(0, offered) as { status: number }).status, EVTCHNSTAT_interdomain);
});

test('bind_vcpu moves delivery to another vCPU\'s vcpu_info; status reports the binding', () => {
  const c = connected();
  assert.equal(c.guest.registerVcpuInfo(1), 0);
  c.guest.takeEvents(1);
  const s = c.guest.scratch;
  c.guest.w32(s, c.port); c.guest.w32(s + 4, 1);
  assert.equal(c.guest.hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_vcpu, s), 0);
  c.guest.w32(s + 4, 5);
  assert.equal(c.guest.hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_vcpu, s), -ENOENT);
  const up1 = c.guest.upcalls[1]!;
  c.evtchn.send(0, c.vmioPort);
  assert.equal(c.guest.upcalls[1], up1 + 1);
  assert.equal(c.guest.upcallPending(0), 0);
  assert.deepEqual(c.guest.takeEvents(1), [c.port]);
  c.guest.w16(s, 0x7ff0); c.guest.w32(s + 4, c.port);
  assert.equal(c.guest.hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_status, s), 0);
  assert.deepEqual([c.guest.r32(s + 8), c.guest.r32(s + 12), c.guest.r16(s + 16), c.guest.r32(s + 20)], [EVTCHNSTAT_interdomain, 1, 0, c.vmioPort]);
  c.guest.w32(s + 4, 77);
  assert.equal(c.guest.hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_status, s), 0);
  assert.equal(c.guest.r32(s + 8), EVTCHNSTAT_closed);
});

test('ports run out with -ENOSPC; a closed port is reused', () => {
  const e = new EventChannels(undefined, null, 8);
  const s = setupGuest({ evtchn: e });
  const ports: number[] = [];
  for (let i = 0; i < 7; i++) ports.push(s.guest.allocUnbound(0));
  assert.deepEqual(ports, [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(s.guest.allocUnbound(0), -ENOSPC);
  assert.equal(e.close(1, 3), 0);
  assert.equal(s.guest.allocUnbound(0), 3);
});

test('two guests on one set of channels: a guest-to-guest channel delivers into the other guest\'s shared_info', () => {
  const e = new EventChannels();
  const a = setupGuest({ id: 1, evtchn: e });
  const b = setupGuest({ id: 2, evtchn: e });
  a.guest.boot(1); b.guest.boot(1);
  b.guest.takeEvents();
  const pa = a.guest.allocUnbound(2);
  const s = b.guest.scratch;
  b.guest.w16(s, 1); b.guest.w32(s + 4, pa);
  assert.equal(b.guest.hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_interdomain, s), 0);
  const pb = b.guest.r32(s + 8);
  b.guest.takeEvents();
  assert.equal(a.guest.send(pa), 0);
  assert.deepEqual(b.guest.takeEvents(), [pb]);
  assert.equal(e.counters.guestToGuest, 1);
  assert.equal(a.guest.isPending(pb), pa === pb ? a.guest.isPending(pa) : false);
});

test('vmio handlers run one at a time: a handler that notifies another vmio port does not nest', () => {
  const s = setupGuest();
  s.guest.boot(1);
  const order: string[] = [];
  const p1 = s.guest.allocUnbound(0);
  const p2 = s.guest.allocUnbound(0);
  let depth = 0;
  const v2 = s.evtchn.bindInterdomain(0, 1, p2, () => { order.push(`h2@${depth}`); });
  const v1 = s.evtchn.bindInterdomain(0, 1, p1, () => { depth++; order.push('h1'); s.guest.send(p2); order.push('h1 done'); depth--; });
  order.length = 0;
  s.guest.send(p1);
  assert.deepEqual(order, ['h1', 'h1 done', 'h2@0']);
  assert.ok(v1 > 0 && v2 > 0);
});

test('virtual interrupts: bind_virq once per vCPU, raised by vmio', () => {
  const s = setupGuest();
  s.guest.boot(1);
  s.guest.takeEvents();
  const p = s.evtchn.bindVirq(1, 3, 0);
  assert.ok(p > 0);
  assert.equal(s.evtchn.bindVirq(1, 3, 0), -17);
  assert.equal(s.evtchn.bindVirq(1, 24, 0), -EINVAL);
  assert.equal(s.evtchn.bindVirq(1, 3, 1), -ENOENT);
  assert.ok(s.evtchn.raiseVirq(1, 3));
  assert.deepEqual(s.guest.takeEvents(), [p]);
  assert.equal(s.evtchn.raiseVirq(1, 4), false);
});
