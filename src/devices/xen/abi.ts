// The Xen hypervisor ABI vmio serves, with names as in Linux 6.12 include/xen/interface/ (xen.h, version.h,
// features.h, memory.h, grant_table.h, event_channel.h, hvm/hvm_op.h, hvm/params.h, vcpu.h, sched.h). Struct
// layouts are the 64-bit Arm ones (include/xen/arm/interface.h: xen_ulong_t and xen_pfn_t are 64-bit, MAX_VIRT_CPUS
// is 1, arch_vcpu_info and arch_shared_info are empty), which a riscv guest port reuses by path.

// xen.h: hypercall numbers.
export const __HYPERVISOR_memory_op = 12;
export const __HYPERVISOR_xen_version = 17;
export const __HYPERVISOR_console_io = 18;
export const __HYPERVISOR_grant_table_op = 20;
export const __HYPERVISOR_vm_assist = 21;
export const __HYPERVISOR_vcpu_op = 24;
export const __HYPERVISOR_sched_op = 29;
export const __HYPERVISOR_event_channel_op = 32;
export const __HYPERVISOR_physdev_op = 33;
export const __HYPERVISOR_hvm_op = 34;

/** xen.h: "DOMID_SELF is used in certain contexts to refer to oneself." */
export const DOMID_SELF = 0x7ff0;
/** xen.h: domain ids at or above DOMID_FIRST_RESERVED are special. */
export const DOMID_FIRST_RESERVED = 0x7ff0;
/** vmio itself: the backend domain (netback, xenstored), privileged like dom0. */
export const DOMID_VMIO = 0;

// Xen's public errno values (xen/include/public/errno.h; the same numbers as Linux's).
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EIO = 5;
export const E2BIG = 7;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EISDIR = 21;
export const EINVAL = 22;
export const ENOSPC = 28;
export const EROFS = 30;
export const ENOSYS = 38;
export const ENOTEMPTY = 39;
export const EISCONN = 106;

// version.h
export const XENVER_version = 0;
export const XENVER_extraversion = 1;
export const XENVER_get_features = 6;
export const XENVER_pagesize = 7;
/** XENVER_extraversion's buffer: char[16]. */
export const XEN_EXTRAVERSION_LEN = 16;
/** struct xen_feature_info { unsigned int submap_idx; uint32_t submap; } */
export const XEN_FEATURE_INFO_SIZE = 8;

// features.h
export const XENFEAT_writable_page_tables = 0;
export const XENFEAT_auto_translated_physmap = 2;
export const XENFEAT_not_direct_mapped = 16;
export const XENFEAT_NR_SUBMAPS = 1;

// memory.h
export const XENMEM_add_to_physmap = 7;
/** Xen masks memory_op's command with MEMOP_CMD_MASK (the rest is a continuation's start extent). */
export const MEMOP_CMD_MASK = 0x3f;
export const XENMAPSPACE_shared_info = 0;
export const XENMAPSPACE_grant_table = 1;
/** xen/include/public/memory.h: an idx with this bit names a status frame (grant table v2 only). */
export const XENMAPIDX_grant_table_status = 0x8000_0000;
/** struct xen_add_to_physmap: domid u16 @0, size u16 @2, space u32 @4, idx u64 @8, gpfn u64 @16. */
export const XATP_SIZE = 24;

// grant_table.h
export const GNTTABOP_map_grant_ref = 0;
export const GNTTABOP_unmap_grant_ref = 1;
export const GNTTABOP_setup_table = 2;
export const GNTTABOP_copy = 5;
export const GNTTABOP_query_size = 6;
export const GNTTABOP_set_version = 8;
export const GNTTABOP_get_version = 10;
/** struct gnttab_query_size: dom u16 @0, nr_frames u32 @4, max_nr_frames u32 @8, status s16 @12. */
export const GNTTAB_QUERY_SIZE_SIZE = 16;
/** struct grant_entry_v1: flags u16 @0, domid u16 @2, frame u32 @4. */
export const GRANT_ENTRY_V1_SIZE = 8;
export const GRANT_ENTRIES_PER_FRAME = 4096 / GRANT_ENTRY_V1_SIZE;
export const GNTTAB_NR_RESERVED_ENTRIES = 8;
export const GTF_invalid = 0;
export const GTF_permit_access = 1;
export const GTF_accept_transfer = 2;
export const GTF_transitive = 3;
export const GTF_type_mask = 3;
export const GTF_readonly = 1 << 2;
export const GTF_reading = 1 << 3;
export const GTF_writing = 1 << 4;
export const GTF_sub_page = 1 << 8;
export const GNTST_okay = 0;
export const GNTST_general_error = -1;
export const GNTST_bad_domain = -2;
export const GNTST_bad_gntref = -3;
export const GNTST_bad_handle = -4;
export const GNTST_permission_denied = -8;
export const GNTST_bad_page = -9;
export const GNTST_bad_copy_arg = -10;
export const GNTST_no_space = -13;

// event_channel.h
export const EVTCHNOP_bind_interdomain = 0;
export const EVTCHNOP_bind_virq = 1;
export const EVTCHNOP_close = 3;
export const EVTCHNOP_send = 4;
export const EVTCHNOP_status = 5;
export const EVTCHNOP_alloc_unbound = 6;
export const EVTCHNOP_bind_vcpu = 8;
export const EVTCHNOP_unmask = 9;
export const EVTCHNOP_init_control = 11;
export const EVTCHNSTAT_closed = 0;
export const EVTCHNSTAT_unbound = 1;
export const EVTCHNSTAT_interdomain = 2;
export const EVTCHNSTAT_virq = 4;
/** sizeof(xen_ulong_t) * sizeof(xen_ulong_t) * 64: the 2-level ABI's ports. */
export const EVTCHN_2L_NR_CHANNELS = 4096;
/** Xen's NR_VIRQS. */
export const NR_VIRQS = 24;
// Argument sizes: alloc_unbound {dom u16, remote_dom u16, port u32}; bind_interdomain {remote_dom u16 @0,
// remote_port u32 @4, local_port u32 @8}; bind_virq {virq, vcpu, port}; status {dom u16 @0, port @4, status @8,
// vcpu @12, u @16 (unbound.dom u16 | interdomain {dom u16 @16, port u32 @20} | virq u32 @16)}.
export const EVTCHN_ALLOC_UNBOUND_SIZE = 8;
export const EVTCHN_BIND_INTERDOMAIN_SIZE = 12;
export const EVTCHN_BIND_VIRQ_SIZE = 12;
export const EVTCHN_STATUS_SIZE = 24;
export const EVTCHN_BIND_VCPU_SIZE = 8;

// hvm/hvm_op.h, hvm/params.h
export const HVMOP_set_param = 0;
export const HVMOP_get_param = 1;
/** struct xen_hvm_param: domid u16 @0, index u32 @4, value u64 @8. */
export const XEN_HVM_PARAM_SIZE = 16;
export const HVM_PARAM_CALLBACK_IRQ = 0;
export const HVM_PARAM_STORE_PFN = 1;
export const HVM_PARAM_STORE_EVTCHN = 2;
export const HVM_PARAM_CONSOLE_PFN = 17;
export const HVM_PARAM_CONSOLE_EVTCHN = 18;

// vcpu.h
export const VCPUOP_register_runstate_memory_area = 5;
export const VCPUOP_register_vcpu_info = 10;
/** struct vcpu_register_vcpu_info: mfn u64 @0, offset u32 @8, rsvd u32 @12. */
export const VCPU_REGISTER_VCPU_INFO_SIZE = 16;
/** struct vcpu_runstate_info: state s32 @0, state_entry_time u64 @8, time[4] u64 @16. */
export const VCPU_RUNSTATE_INFO_SIZE = 48;
export const RUNSTATE_running = 0;

// sched.h
export const SCHEDOP_yield = 0;
export const SCHEDOP_block = 1;
export const SCHEDOP_shutdown = 2;
export const SHUTDOWN_poweroff = 0;
export const SHUTDOWN_reboot = 1;
export const SHUTDOWN_suspend = 2;
export const SHUTDOWN_crash = 3;
export const SHUTDOWN_watchdog = 4;

// xen.h: struct vcpu_info (48 bytes on Arm) and struct shared_info.
export const VCPU_INFO_SIZE = 48;
export const VI_UPCALL_PENDING = 0;
export const VI_UPCALL_MASK = 1;
export const VI_PENDING_SEL = 8;
/** shared_info.vcpu_info[MAX_VIRT_CPUS = 1], then the 2-level bitmaps of 64 xen_ulong_t each. */
export const SI_VCPU_INFO = 0;
export const SI_EVTCHN_PENDING = 48;
export const SI_EVTCHN_MASK = 560;

export const XEN_PAGE_SIZE = 4096;
export const XEN_PAGE_SHIFT = 12;
