// grant_table_op and event_channel_op as a guest issues them (grant_table.h, event_channel.h): each struct is
// copied in through the checked GuestArgs, validated, handed to the grant table or the event channels, and the
// OUT fields copied back. Also the names hypercalls are counted under.

import {
  DOMID_SELF, EFAULT, EINVAL, ENOSYS, EPERM, EVTCHN_ALLOC_UNBOUND_SIZE, EVTCHN_BIND_INTERDOMAIN_SIZE,
  EVTCHN_BIND_VCPU_SIZE, EVTCHN_BIND_VIRQ_SIZE, EVTCHN_STATUS_SIZE, EVTCHNOP_alloc_unbound, EVTCHNOP_bind_interdomain,
  EVTCHNOP_bind_vcpu, EVTCHNOP_bind_virq, EVTCHNOP_close, EVTCHNOP_send, EVTCHNOP_status, EVTCHNOP_unmask,
  EVTCHNSTAT_interdomain, EVTCHNSTAT_unbound, EVTCHNSTAT_virq, GNTST_okay, GNTST_permission_denied,
  GNTTAB_QUERY_SIZE_SIZE, GNTTABOP_get_version, GNTTABOP_query_size, GNTTABOP_set_version,
  __HYPERVISOR_console_io, __HYPERVISOR_event_channel_op, __HYPERVISOR_grant_table_op, __HYPERVISOR_hvm_op,
  __HYPERVISOR_memory_op, __HYPERVISOR_physdev_op, __HYPERVISOR_sched_op, __HYPERVISOR_vcpu_op, __HYPERVISOR_vm_assist,
  __HYPERVISOR_xen_version,
} from './abi.js';
import type { HypercallContext } from './hypercall.js';

export const OP_NAMES: Readonly<Record<number, string>> = {
  [__HYPERVISOR_memory_op]: 'memory_op', [__HYPERVISOR_xen_version]: 'xen_version', [__HYPERVISOR_console_io]: 'console_io',
  [__HYPERVISOR_grant_table_op]: 'grant_table_op', [__HYPERVISOR_vm_assist]: 'vm_assist', [__HYPERVISOR_vcpu_op]: 'vcpu_op',
  [__HYPERVISOR_sched_op]: 'sched_op', [__HYPERVISOR_event_channel_op]: 'event_channel_op', [__HYPERVISOR_physdev_op]: 'physdev_op',
  [__HYPERVISOR_hvm_op]: 'hvm_op',
};

/** Sub-operation names per hypercall (indexed by the command in a0). */
export const SUB_NAMES: Readonly<Record<number, readonly string[]>> = {
  [__HYPERVISOR_xen_version]: ['version', 'extraversion', 'compile_info', 'capabilities', 'changeset', 'platform_parameters', 'get_features', 'pagesize'],
  [__HYPERVISOR_memory_op]: ['increase_reservation', 'decrease_reservation', 'maximum_ram_page', 'current_reservation', 'maximum_reservation',
    'machphys_mfn_list', 'populate_physmap', 'add_to_physmap'],
  [__HYPERVISOR_grant_table_op]: ['map_grant_ref', 'unmap_grant_ref', 'setup_table', 'dump_table', 'transfer', 'copy', 'query_size',
    'unmap_and_replace', 'set_version', 'get_status_frames', 'get_version'],
  [__HYPERVISOR_event_channel_op]: ['bind_interdomain', 'bind_virq', 'bind_pirq', 'close', 'send', 'status', 'alloc_unbound', 'bind_ipi',
    'bind_vcpu', 'unmask', 'reset', 'init_control', 'expand_array', 'set_priority'],
  [__HYPERVISOR_hvm_op]: ['set_param', 'get_param'],
  [__HYPERVISOR_vcpu_op]: ['initialise', 'up', 'down', 'is_up', 'get_runstate_info', 'register_runstate_memory_area', 'set_periodic_timer',
    'stop_periodic_timer', 'set_singleshot_timer', 'stop_singleshot_timer', 'register_vcpu_info'],
  [__HYPERVISOR_sched_op]: ['yield', 'block', 'shutdown', 'poll', 'remote_shutdown', 'shutdown_code', 'watchdog'],
};

const GRANT_VERSION = 1;

// guest-controlled: cmd, the struct at `uop`, and `count`.
/**
 * GNTTABOP_query_size, set_version and get_version (count must be 1, as Xen requires for them). map, unmap, copy
 * and setup_table are not offered to guests: vmio's backends run in vmio, and no domain grants anything to a guest.
 */
export function grantTableOp(ctx: HypercallContext, cmd: number, uop: bigint, countReg: bigint): number {
  const g = ctx.args;
  if (cmd !== GNTTABOP_query_size && cmd !== GNTTABOP_set_version && cmd !== GNTTABOP_get_version) return -ENOSYS;
  if (BigInt.asUintN(32, countReg) !== 1n) return -EINVAL;
  switch (cmd) {
    case GNTTABOP_query_size: {
      if (!g.read(uop, GNTTAB_QUERY_SIZE_SIZE)) return -EFAULT;
      if (ctx.isSelf(g.u16(0))) {
        g.setU32(4, ctx.domain.nrGrantFrames);
        g.setU32(8, ctx.domain.grantFrames.length);
        g.setI16(12, GNTST_okay);
      } else {
        g.setI16(12, GNTST_permission_denied);
      }
      return g.write(uop, GNTTAB_QUERY_SIZE_SIZE) ? 0 : -EFAULT;
    }
    case GNTTABOP_set_version: {
      if (!g.read(uop, 4)) return -EFAULT;
      const asked = g.u32(0);
      g.setU32(0, GRANT_VERSION); // IN/OUT: the version in force
      if (!g.write(uop, 4)) return -EFAULT;
      return asked === GRANT_VERSION ? 0 : -EINVAL;
    }
    default: { // get_version: {dom u16, pad u16, version u32}
      if (!g.read(uop, 8)) return -EFAULT;
      if (!ctx.isSelf(g.u16(0))) return -EPERM;
      g.setU32(4, GRANT_VERSION);
      return g.write(uop, 8) ? 0 : -EFAULT;
    }
  }
}

// guest-controlled: cmd and the struct at `arg` (a port is any u32: the port tables refuse what they do not hold).
/** The 2-level event channel operations. EVTCHNOP_init_control fails with -ENOSYS: Linux then uses 2-level events. */
export function eventChannelOp(ctx: HypercallContext, cmd: number, arg: bigint): number {
  const g = ctx.args;
  const e = ctx.evtchn;
  const me = ctx.domain.id;
  switch (cmd) {
    case EVTCHNOP_alloc_unbound: {
      if (!g.read(arg, EVTCHN_ALLOC_UNBOUND_SIZE)) return -EFAULT;
      if (!ctx.isSelf(g.u16(0))) return -EPERM;
      const remote = g.u16(2);
      const p = e.allocUnbound(me, remote === DOMID_SELF ? me : remote);
      if (p < 0) return p;
      g.setU32(4, p);
      return g.write(arg, EVTCHN_ALLOC_UNBOUND_SIZE) ? 0 : closeAfterFault(ctx, p);
    }
    case EVTCHNOP_bind_interdomain: {
      if (!g.read(arg, EVTCHN_BIND_INTERDOMAIN_SIZE)) return -EFAULT;
      const remote = g.u16(0);
      const p = e.bindInterdomain(me, remote === DOMID_SELF ? me : remote, g.u32(4));
      if (p < 0) return p;
      g.setU32(8, p);
      return g.write(arg, EVTCHN_BIND_INTERDOMAIN_SIZE) ? 0 : closeAfterFault(ctx, p);
    }
    case EVTCHNOP_bind_virq: {
      if (!g.read(arg, EVTCHN_BIND_VIRQ_SIZE)) return -EFAULT;
      const p = e.bindVirq(me, g.u32(0), g.u32(4));
      if (p < 0) return p;
      g.setU32(8, p);
      return g.write(arg, EVTCHN_BIND_VIRQ_SIZE) ? 0 : closeAfterFault(ctx, p);
    }
    case EVTCHNOP_close: return g.read(arg, 4) ? e.close(me, g.u32(0)) : -EFAULT;
    case EVTCHNOP_send: return g.read(arg, 4) ? e.send(me, g.u32(0)) : -EFAULT;
    case EVTCHNOP_unmask: return g.read(arg, 4) ? e.unmask(me, g.u32(0)) : -EFAULT;
    case EVTCHNOP_bind_vcpu:
      return g.read(arg, EVTCHN_BIND_VCPU_SIZE) ? e.bindVcpu(me, g.u32(0), g.u32(4)) : -EFAULT;
    case EVTCHNOP_status: {
      if (!g.read(arg, EVTCHN_STATUS_SIZE)) return -EFAULT;
      if (!ctx.isSelf(g.u16(0))) return -EPERM;
      const s = e.status(me, g.u32(4));
      if (typeof s === 'number') return s;
      g.setU32(8, s.status);
      g.setU32(12, s.vcpu);
      g.view.setBigUint64(16, 0n, true);
      if (s.status === EVTCHNSTAT_unbound) g.setU16(16, s.dom);
      else if (s.status === EVTCHNSTAT_interdomain) { g.setU16(16, s.dom); g.setU32(20, s.port); }
      else if (s.status === EVTCHNSTAT_virq) g.setU32(16, s.virq);
      return g.write(arg, EVTCHN_STATUS_SIZE) ? 0 : -EFAULT;
    }
    default: return -ENOSYS; // bind_pirq, bind_ipi, reset, init_control (FIFO), expand_array, set_priority
  }
}

/** A port was made but its number could not be written back: undo, as Xen does not leak it either. */
function closeAfterFault(ctx: HypercallContext, p: number): number {
  ctx.evtchn.close(ctx.domain.id, p);
  return -EFAULT;
}
