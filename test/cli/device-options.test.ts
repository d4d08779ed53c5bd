// `--nic` parsing: the igb model (the 82576 PF of a driver domain) and the options it refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceSpecError, parseNicSpec } from '../../src/cli/device-options.js';

test('--nic model=igb is an 82576 PF on the named backend', () => {
  const s = parseNicSpec('switch=lan,model=igb,mac=52:54:00:aa:bb:cc');
  assert.equal(s.model, 'igb');
  assert.deepEqual([...s.mac!], [0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc]);
  assert.equal(parseNicSpec('switch=lan').model, 'virtio-net');
});

test('--nic model=igb refuses the virtio-net options and the e1000 switches', () => {
  assert.throws(() => parseNicSpec('switch=lan,model=igb,queues=2'), (e: Error) => e instanceof DeviceSpecError && /virtio-net options/.test(e.message) && /igb/.test(e.message));
  assert.throws(() => parseNicSpec('switch=lan,model=igb,coalesce'), (e: Error) => e instanceof DeviceSpecError && /add model=e1000/.test(e.message));
  assert.throws(() => parseNicSpec('switch=lan,model=ixgbe'), (e: Error) => e instanceof DeviceSpecError && /virtio-net, e1000, igb or xen-net/.test(e.message));
});

test('--nic model=xen-net is a Xen vif on the named backend; virtio-net options are refused', () => {
  const s = parseNicSpec('tap=vtap0,model=xen-net');
  assert.equal(s.model, 'xen-net');
  assert.equal(parseNicSpec('none,model=xen-net').model, 'xen-net');
  assert.throws(() => parseNicSpec('switch=lan,model=xen-net,transport=mmio'), (e: Error) => e instanceof DeviceSpecError && /Xen vif/.test(e.message));
  assert.throws(() => parseNicSpec('switch=lan,model=xen-net,itr'), (e: Error) => e instanceof DeviceSpecError && /add model=e1000/.test(e.message));
});
