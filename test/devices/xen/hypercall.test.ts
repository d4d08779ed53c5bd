// The Xen hypercall ABI (src/devices/xen/hypercall.ts): the SBI calling convention, xen_version, memory_op
// add_to_physmap, grant_table_op, hvm_op, vcpu_op and sched_op as Linux calls them, and the checks that keep every
// pointer and frame a guest passes inside its own RAM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DOMID_SELF, EFAULT, EINVAL, ENOENT, ENOSYS, EPERM, GNTST_okay, GNTST_permission_denied, GNTTABOP_copy, GNTTABOP_query_size,
  GNTTABOP_set_version, HVM_PARAM_STORE_EVTCHN, HVM_PARAM_STORE_PFN, HVMOP_get_param, HVMOP_set_param, SCHEDOP_shutdown,
  SCHEDOP_yield, SHUTDOWN_poweroff, SI_EVTCHN_PENDING, VCPUOP_register_runstate_memory_area, VI_PENDING_SEL, XENFEAT_auto_translated_physmap,
  XENMAPSPACE_grant_table, XENMAPSPACE_shared_info, XENVER_extraversion, XENVER_get_features, XENVER_pagesize, XENVER_version,
  __HYPERVISOR_event_channel_op, __HYPERVISOR_grant_table_op, __HYPERVISOR_hvm_op, __HYPERVISOR_memory_op, __HYPERVISOR_sched_op,
  __HYPERVISOR_vcpu_op, __HYPERVISOR_xen_version, EVTCHNOP_init_control, XENMAPIDX_grant_table_status,
} from '../../../src/devices/xen/abi.js';
import { XEN_SBI_EID } from '../../../src/devices/xen/hypercall.js';
import { XenSbi } from '../../../src/devices/xen/sbi-xen.js';
import { RAM_BASE } from '../../../src/devices/xen/testing/guest.js';
import { setupGuest } from '../../../src/devices/xen/testing/setup.js';

const PAGE = 4096;

test('xen_version: version 4.19, page size, extraversion, and get_features with auto_translated_physmap', () => {
  const { guest, hc } = setupGuest();
  assert.equal(guest.hypercall(__HYPERVISOR_xen_version, XENVER_version, 0), (4 << 16) | 19);
  assert.equal(guest.hypercall(__HYPERVISOR_xen_version, XENVER_pagesize, 0), PAGE);
  const s = guest.scratch;
  assert.equal(guest.hypercall(__HYPERVISOR_xen_version, XENVER_extraversion, s), 0);
  assert.equal(Buffer.from(guest.ram.slice(s, 8)).toString('latin1'), '.0-vmio\0');
  guest.w32(s, 0);
  assert.equal(guest.hypercall(__HYPERVISOR_xen_version, XENVER_get_features, s), 0);
  assert.ok((guest.r32(s + 4) & (1 << XENFEAT_auto_translated_physmap)) !== 0);
  guest.w32(s, 1);
  assert.equal(guest.hypercall(__HYPERVISOR_xen_version, XENVER_get_features, s), -EINVAL);
  assert.equal(hc.counters.byOp['xen_version.get_features'], 2);
  assert.equal(hc.counters.byOp['xen_version.version'], 1);
});

test('unknown hypercalls and sub-ops answer -ENOSYS and are counted by name', () => {
  const { guest, hc } = setupGuest();
  assert.equal(guest.hypercall(99, 0, 0), -ENOSYS);
  assert.equal(guest.hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_init_control, guest.scratch), -ENOSYS);
  assert.equal(guest.hypercall(__HYPERVISOR_memory_op, 1, guest.scratch), -ENOSYS);
  assert.equal(guest.hypercall(__HYPERVISOR_xen_version, 0xffff_ffff, 0), -ENOSYS);
  assert.equal(hc.counters.byOp['unknown'], 1);
  assert.equal(hc.counters.byOp['event_channel_op.init_control'], 1);
  assert.equal(hc.counters.byOp['xen_version.unknown'], 1);
  assert.equal(hc.counters.errors, 4);
});

test('pointers outside RAM, across its end, or unmapped by the translator fault with -EFAULT and write nothing', () => {
  const { guest, hc, ram } = setupGuest();
  const end = RAM_BASE + ram.size;
  assert.equal(guest.hypercall(__HYPERVISOR_xen_version, XENVER_get_features, 0x1000), -EFAULT);
  assert.equal(guest.hypercall(__HYPERVISOR_xen_version, XENVER_get_features, end - 4), -EFAULT);
  assert.equal(guest.hypercall(__HYPERVISOR_xen_version, XENVER_get_features, -1n), -EFAULT);
  assert.equal(guest.hypercall(__HYPERVISOR_xen_version, XENVER_get_features, 2n ** 63n), -EFAULT);
  assert.equal(hc.counters.faults, 4);
  // A struct across a page boundary inside RAM is fine.
  const p = guest.allocPage();
  guest.allocPage();
  guest.w32(p + PAGE - 4, 0);
  assert.equal(guest.hypercall(__HYPERVISOR_xen_version, XENVER_get_features, p + PAGE - 4), 0);
  // With a translator: virtual 0x1000 maps to `p`; anything else is unmapped.
  const a = new BigInt64Array([BigInt(XENVER_get_features), 0x1000n, 0n, 0n, 0n]);
  const tr = { translate: (va: number) => (va >= 0x1000 && va < 0x2000 ? p + (va - 0x1000) : -1) };
  guest.w32(p, 0); guest.w32(p + 4, 0);
  assert.equal(hc.call(0, __HYPERVISOR_xen_version, a, tr), 0n);
  assert.notEqual(guest.r32(p + 4), 0);
  // An upper-half kernel address (Sv39: 0xffffffd8_00000000 and up) is a negative number to the MMU.
  const kva = 0xffff_ffd8_0000_0000n;
  const kt = { translate: (va: number) => (va >= Number(BigInt.asIntN(64, kva)) && va < Number(BigInt.asIntN(64, kva)) + PAGE ? p + (va - Number(BigInt.asIntN(64, kva))) : -1) };
  guest.w32(p + 4, 0);
  a[1] = BigInt.asIntN(64, kva);
  assert.equal(hc.call(0, __HYPERVISOR_xen_version, a, kt), 0n);
  assert.notEqual(guest.r32(p + 4), 0);
  a[1] = 0x1ffcn; // the second half of the struct lies on an unmapped page: nothing is written
  guest.w32(p + PAGE - 4, 0xdead);
  assert.equal(hc.call(0, __HYPERVISOR_xen_version, a, tr), BigInt(-EFAULT));
  assert.equal(guest.r32(p + PAGE - 4), 0xdead);
});

test('XENMEM_add_to_physmap maps shared_info and grant frames at guest frames, carrying their contents', () => {
  const { guest, domain, evtchn } = setupGuest();
  // An event pending before shared_info is mapped sits in the hypervisor's own page.
  const port = guest.allocUnbound(0);
  evtchn.bindInterdomain(0, 1, port, () => {});
  evtchn.send(0, 1);
  const si = guest.allocPage();
  guest.w32(si + SI_EVTCHN_PENDING, 0xffff_ffff);
  assert.equal(guest.addToPhysmap(XENMAPSPACE_shared_info, 0, si / PAGE), 0);
  assert.equal(domain.sharedInfo.gfn, si / PAGE);
  assert.equal(guest.r32(si + SI_EVTCHN_PENDING), 1 << port, 'the frame now shows the hypervisor page');
  // Moving it: the contents follow, and the old frame is the guest's again.
  const si2 = guest.allocPage();
  assert.equal(guest.addToPhysmap(XENMAPSPACE_shared_info, 0, si2 / PAGE), 0);
  assert.equal(guest.r32(si2 + SI_EVTCHN_PENDING), 1 << port);
  assert.ok(domain.ownsFrame(si / PAGE) && !domain.ownsFrame(si2 / PAGE));
  // Refusals.
  assert.equal(guest.addToPhysmap(XENMAPSPACE_shared_info, 1, si / PAGE), -EINVAL);
  assert.equal(guest.addToPhysmap(XENMAPSPACE_shared_info, 0, 0x10), -EINVAL, 'frame outside RAM');
  assert.equal(guest.addToPhysmap(XENMAPSPACE_shared_info, 0, 2n ** 52n), -EINVAL);
  assert.equal(guest.addToPhysmap(2, 0, si / PAGE), -EINVAL, 'XENMAPSPACE_gmfn');
  assert.equal(guest.addToPhysmap(XENMAPSPACE_grant_table, 32, si / PAGE), -EINVAL, 'past max_nr_frames');
  assert.equal(guest.addToPhysmap(XENMAPSPACE_grant_table, BigInt(XENMAPIDX_grant_table_status), si / PAGE), -EINVAL, 'v2 status frame');
  assert.equal(guest.addToPhysmap(XENMAPSPACE_shared_info, 0, si / PAGE, 2), -EPERM, 'another domain');
  assert.equal(domain.sharedInfo.gfn, si2 / PAGE);
});

test('grant_table_op: query_size follows the frames mapped, set_version accepts v1 only, guests cannot copy', () => {
  const { guest } = setupGuest();
  assert.deepEqual(guest.querySize(), [GNTST_okay, 0, 32]);
  guest.boot(4);
  assert.deepEqual(guest.querySize(), [GNTST_okay, 4, 32]);
  const s = guest.scratch;
  guest.w16(s, 7);
  assert.equal(guest.hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, s, 1), 0);
  assert.equal((guest.r16(s + 12) << 16) >> 16, GNTST_permission_denied);
  assert.equal(guest.hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, s, 2), -EINVAL);
  guest.w32(s, 1);
  assert.equal(guest.hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_set_version, s, 1), 0);
  guest.w32(s, 2);
  assert.equal(guest.hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_set_version, s, 1), -EINVAL);
  assert.equal(guest.r32(s), 1, 'the version in force is written back');
  assert.equal(guest.hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_copy, s, 1), -ENOSYS);
});

test('hvm_op get_param reads what the toolstack set; set_param and other domains are refused', () => {
  const { guest, domain } = setupGuest();
  domain.params.set(HVM_PARAM_STORE_PFN, 0x80123n);
  domain.params.set(HVM_PARAM_STORE_EVTCHN, 3n);
  const s = guest.scratch;
  const get = (index: number, domid = DOMID_SELF) => {
    guest.w16(s, domid); guest.w32(s + 4, index); guest.w64(s + 8, 0n);
    const r = guest.hypercall(__HYPERVISOR_hvm_op, HVMOP_get_param, s);
    return r < 0 ? r : guest.r64(s + 8);
  };
  assert.equal(get(HVM_PARAM_STORE_PFN), 0x80123n);
  assert.equal(get(HVM_PARAM_STORE_EVTCHN, 1), 3n);
  assert.equal(get(63), 0n);
  assert.equal(get(64), -EINVAL);
  assert.equal(get(HVM_PARAM_STORE_PFN, 0), -EPERM);
  assert.equal(guest.hypercall(__HYPERVISOR_hvm_op, HVMOP_set_param, s), -EPERM);
});

test('VCPUOP_register_vcpu_info: once per vCPU, inside one page of the guest\'s own RAM; success interrupts the vCPU', () => {
  const { guest, domain } = setupGuest({ vcpus: 2 });
  guest.boot(1);
  assert.equal(guest.upcalls[0], 1, 'registration raised the upcall');
  assert.equal(guest.r64(guest.vcpuInfo[0]! + VI_PENDING_SEL), 0xffff_ffff_ffff_ffffn);
  assert.equal(guest.upcallPending(0), 1);
  assert.equal(guest.registerVcpuInfo(0), -EINVAL, 'twice');
  assert.equal(guest.registerVcpuInfo(2), -ENOENT);
  const p = guest.allocPage();
  assert.equal(guest.registerVcpuInfo(1, p + PAGE - 40), -EINVAL, 'crosses the page');
  assert.equal(guest.registerVcpuInfo(1, p + 4), -EINVAL, 'misaligned');
  assert.equal(guest.registerVcpuInfo(1, guest.layout.grantBase), -EINVAL, 'a grant frame alias');
  assert.equal(guest.registerVcpuInfo(1, guest.sharedInfo), -EINVAL, 'the shared_info alias');
  const s = guest.scratch;
  guest.w64(s, 0x10n); guest.w32(s + 8, 0);
  assert.equal(guest.hypercall(__HYPERVISOR_vcpu_op, 10, 1, s), -EINVAL, 'outside RAM');
  assert.equal(guest.registerVcpuInfo(1, p + 64), 0);
  assert.ok(domain.vcpuInfoOf(1) !== null);
  // Nothing can be mapped over a registered vcpu_info.
  assert.equal(guest.addToPhysmap(XENMAPSPACE_grant_table, 5, p / PAGE), -EINVAL);
});

test('VCPUOP_register_runstate_memory_area writes a running runstate; a bad pointer faults', () => {
  const { guest, domain } = setupGuest();
  const area = guest.allocPage();
  const s = guest.scratch;
  guest.w64(s, BigInt(area));
  guest.w32(area, 0xffff);
  assert.equal(guest.hypercall(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, s), 0);
  assert.equal(guest.r32(area), 0);
  assert.equal(guest.r64(area + 8), 123_456_789n);
  assert.ok(domain.runstateRegistered[0]);
  guest.w64(s, 0x10n);
  assert.equal(guest.hypercall(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, s), -EFAULT);
});

test('sched_op: shutdown with a reason reaches the platform; bad reasons are refused; yield', () => {
  const { guest, platform, domain } = setupGuest();
  const s = guest.scratch;
  guest.w32(s, 9);
  assert.equal(guest.hypercall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, s), -EINVAL);
  guest.w32(s, SHUTDOWN_poweroff);
  assert.equal(guest.hypercall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, s), 0);
  assert.deepEqual(platform.shutdowns, [SHUTDOWN_poweroff]);
  assert.equal(domain.shutdownReason, SHUTDOWN_poweroff);
  assert.equal(guest.hypercall(__HYPERVISOR_sched_op, SCHEDOP_yield, 0), 0);
  assert.equal(platform.yields, 1);
  assert.equal(guest.hypercall(__HYPERVISOR_sched_op, 1, 0), -ENOSYS);
});

test('the SBI convention: a7 = XEN_SBI_EID, a6 = op, a0 = sign-extended result; probe reports it; other calls pass through', () => {
  const { hc } = setupGuest();
  const passed: bigint[] = [];
  const sbi = new XenSbi({ call: (h) => { passed.push(h.x[17]!); h.x[10] = 0n; } }, hc);
  const x = new BigInt64Array(32);
  const hart = { id: 0, x, setSbiTimer: () => {} };
  x[17] = BigInt(XEN_SBI_EID); x[16] = BigInt(__HYPERVISOR_xen_version); x[10] = BigInt(XENVER_version); x[11] = 77n;
  sbi.call(hart);
  assert.equal(x[10], BigInt((4 << 16) | 19));
  x[17] = BigInt(XEN_SBI_EID); x[16] = 1234n;
  sbi.call(hart);
  assert.equal(x[10], BigInt(-ENOSYS), 'negative errno, sign-extended');
  assert.equal(BigInt.asUintN(64, x[10]!), 2n ** 64n - 38n);
  x[17] = 0x10n; x[16] = 3n; x[10] = BigInt(XEN_SBI_EID);
  sbi.call(hart);
  assert.deepEqual([x[10], x[11]], [0n, 1n]);
  x[17] = 0x54494d45n; x[16] = 0n;
  sbi.call(hart);
  assert.deepEqual(passed, [0x54494d45n]);
  assert.ok(XEN_SBI_EID >= 0x0a00_0000 && XEN_SBI_EID <= 0x0aff_ffff, 'firmware-specific range');
});
