// The software switch: learning, flooding, filtering without hairpin, deterministic ageing, a bounded table, an
// uplink backend, loop protection, and delivery to VMs only at the scheduler's points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetSwitch, type SwitchPort } from '../../../src/backends/net/switch.js';
import { NicPort } from '../../../src/backends/net/port.js';
import { RecordingNic, ScriptedBackend, ethFrame, mac, patchCable } from '../../../src/backends/net/testing/frames.js';

const MA = mac('52:54:00:00:00:0a');
const MB = mac('52:54:00:00:00:0b');
const MC = mac('52:54:00:00:00:0c');
const BCAST = mac('ff:ff:ff:ff:ff:ff');
const MCAST = mac('01:00:5e:00:00:01');

function frame(dst: Uint8Array, src: Uint8Array, tag = 0): Uint8Array {
  const p = new Uint8Array(46);
  p[0] = tag;
  return ethFrame(dst, src, 0x88b5, p);
}

/** A switch with three VM ports, each with a NicPort and a recording NIC. */
function threeVms(options: ConstructorParameters<typeof NetSwitch>[1] = {}) {
  const sw = new NetSwitch('br0', options);
  const vm = (name: string) => {
    const port = sw.addPort(name);
    const nic = new RecordingNic();
    const nicPort = new NicPort(port, nic, { deterministic: true });
    const take = (): number[] => { nicPort.deliver(); const tags = nic.frames.map((x) => x[14]!); nic.frames.length = 0; return tags; };
    return { port, nic, nicPort, take };
  };
  return { sw, a: vm('a'), b: vm('b'), c: vm('c') };
}

test('unknown unicast is flooded (never back to the sender); once learnt, only the owner gets it', () => {
  const { sw, a, b, c } = threeVms();
  a.nicPort.send(frame(MB, MA, 1));
  assert.deepEqual([a.take(), b.take(), c.take()], [[], [1], [1]]);
  b.nicPort.send(frame(MA, MB, 2)); // A was learnt from frame 1
  assert.deepEqual([a.take(), b.take(), c.take()], [[2], [], []]);
  a.nicPort.send(frame(MB, MA, 3));
  assert.deepEqual([a.take(), b.take(), c.take()], [[], [3], []]);
  assert.equal(sw.counters.flooded, 1);
  assert.equal(sw.counters.forwarded, 2);
  assert.equal(sw.lookup(MA), a.port);
  assert.deepEqual(a.port.counters.toJSON(), { txFrames: 2, txBytes: 120, txDropped: 0, rxFrames: 1, rxBytes: 60, rxDropped: 0 });
});

test('broadcast and multicast go to every port but the ingress one', () => {
  const { a, b, c } = threeVms();
  a.nicPort.send(frame(BCAST, MA, 1));
  c.nicPort.send(frame(MCAST, MC, 2));
  assert.deepEqual([a.take(), b.take(), c.take()], [[2], [1, 2], [1]]);
});

test('no hairpin: a frame for an address learnt on its own ingress port is filtered', () => {
  const { sw, a, b, c } = threeVms();
  a.nicPort.send(frame(BCAST, MA, 1)); // learn A on port a
  b.take(); c.take();
  // A second station behind port a (a VM bridging) talks to A: the frame must not come back out of a.
  a.nicPort.send(frame(MA, MC, 2));
  assert.deepEqual([a.take(), b.take(), c.take()], [[], [], []]);
  assert.equal(sw.counters.filtered, 1);
});

test('invalid sources, reserved 802.1D groups and runts are dropped and counted', () => {
  const { sw, a, b } = threeVms();
  a.port.send(frame(MB, MCAST, 1));
  a.port.send(frame(MB, new Uint8Array(6), 2));
  a.port.send(frame(mac('01:80:c2:00:00:00'), MA, 3)); // STP
  a.port.send(frame(mac('01:80:c2:00:00:0e'), MA, 4)); // LLDP
  a.port.send(new Uint8Array(10));
  assert.deepEqual(b.take(), []);
  assert.equal(sw.counters.invalidSource, 2);
  assert.equal(sw.counters.linkLocal, 2);
  assert.equal(sw.counters.malformed, 1);
  assert.equal(a.port.counters.txDropped, 5);
  assert.equal(sw.addressCount, 0, 'nothing learnt from dropped frames');
  a.port.send(frame(mac('01:80:c2:00:00:10'), MA, 5)); // outside the reserved block: an ordinary group address
  assert.deepEqual(b.take(), [5]);
});

test('ageing by frames switched: an address unseen for longer than the ageing time is flooded again', () => {
  const { sw, a, b, c } = threeVms({ ageing: 3 });
  b.nicPort.send(frame(BCAST, MB, 0)); // B learnt at frame 1
  a.take(); c.take();
  a.nicPort.send(frame(MB, MA, 1)); // frame 2: B known
  assert.deepEqual([b.take(), c.take()], [[1], []]);
  c.nicPort.send(frame(MA, MC, 2)); // frame 3
  c.nicPort.send(frame(MA, MC, 3)); // frame 4
  a.take();
  a.nicPort.send(frame(MB, MA, 4)); // frame 5: B last seen at 1, 4 frames ago > 3
  assert.deepEqual([b.take(), c.take()], [[4], [4]], 'flooded after ageing');
  assert.equal(sw.counters.aged, 1);
});

test('ageing in virtual time: the same traffic ages out or not depending only on the clock', () => {
  for (const [advance, flooded] of [[299, false], [301, true]] as const) {
    let ticks = 0;
    const { a, b, c } = threeVms({ now: () => ticks, ageing: 300 });
    b.nicPort.send(frame(BCAST, MB, 0));
    a.take(); c.take();
    ticks += advance;
    a.nicPort.send(frame(MB, MA, 1));
    assert.deepEqual(c.take(), flooded ? [1] : [], `after ${advance} ticks`);
    assert.deepEqual(b.take(), [1]);
  }
});

test('a station that moves is learnt on its new port', () => {
  const { sw, a, b, c } = threeVms();
  a.nicPort.send(frame(BCAST, MC, 1)); // C's address seen on port a
  c.nicPort.send(frame(BCAST, MC, 2)); // now on port c
  b.nicPort.send(frame(MC, MB, 3));
  a.take();
  assert.deepEqual([a.take(), c.take()], [[], [1, 3]]);
  assert.equal(sw.counters.moved, 1);
});

test('the table is bounded: a guest inventing source addresses cannot grow it; unknown destinations are flooded', () => {
  const { sw, a, b, c } = threeVms({ maxAddresses: 4 });
  for (let i = 0; i < 50; i++) a.port.send(frame(BCAST, mac(`52:54:00:00:10:${i.toString(16).padStart(2, '0')}`), 1));
  assert.equal(sw.addressCount, 4);
  assert.equal(sw.counters.tableFull, 46);
  b.take(); c.take();
  b.nicPort.send(frame(MA, MB, 2));
  assert.deepEqual([a.take(), c.take()], [[2], [2]], 'B not learnt, A unknown: flooded');
});

test('an uplink backend: frames from outside reach a VM only at its delivery point; unknown unicast goes out', () => {
  const sw = new NetSwitch('br0');
  const tap = new ScriptedBackend('tap');
  const up: SwitchPort = sw.addUplink(tap);
  const port = sw.addPort('vm');
  const nic = new RecordingNic();
  const nicPort = new NicPort(port, nic, { deterministic: true });
  assert.equal(nicPort.live(), true, 'a VM port is live while the switch has a live uplink');
  tap.inject(frame(MA, MB, 1));
  assert.equal(nic.frames.length, 0, 'queued, not delivered in the I/O callback');
  nicPort.onRound(1);
  assert.equal(nic.frames.length, 1);
  nicPort.send(frame(MC, MA, 2));
  assert.equal(tap.sent.length, 1, 'unknown unicast flooded to the uplink');
  nicPort.send(frame(MB, MA, 3));
  assert.equal(tap.sent.length, 2, 'B learnt behind the uplink');
  assert.deepEqual(up.counters.toJSON(), { txFrames: 1, txBytes: 60, txDropped: 0, rxFrames: 2, rxBytes: 120, rxDropped: 0 });
  tap.live = false;
  assert.equal(nicPort.live(), false);
  up.close();
  assert.equal(tap.onFrame, null, 'closing the uplink port detaches the backend');
  assert.equal(sw.lookup(MB), null, 'and forgets what was learnt on it');
});

test('two switches patched twice (a loop) do not recurse without bound: looping frames are dropped and counted', () => {
  const s1 = new NetSwitch('s1');
  const s2 = new NetSwitch('s2');
  const [p1a, p2a] = patchCable();
  const [p1b, p2b] = patchCable();
  s1.addUplink(p1a); s1.addUplink(p1b);
  s2.addUplink(p2a); s2.addUplink(p2b);
  const port = s1.addPort('vm');
  port.send(frame(BCAST, MA, 1));
  assert.ok(s1.counters.loops + s2.counters.loops > 0);
  assert.ok(s1.counters.flooded + s2.counters.flooded < 100, 'bounded work');
});

test('two VMs on one timeline: a frame sent during a round enters the other VM only at the next delivery point', () => {
  // A model of the scheduler: each round runs VM a then VM b, then calls onRound on every source.
  const { a, b } = threeVms();
  const seen: string[] = [];
  const runRound = (round: number, aSends: boolean): void => {
    if (aSends) a.nicPort.send(frame(BCAST, MA, round));
    seen.push(`r${round} b-has-${b.nic.frames.length}`); // what VM b sees while it runs in the same round
    for (const p of [a.nicPort, b.nicPort]) p.onRound(round);
  };
  runRound(1, true);
  runRound(2, false);
  assert.deepEqual(seen, ['r1 b-has-0', 'r2 b-has-1']);
});
