// The xenstore wire protocol (Linux 6.12 include/xen/interface/io/xs_wire.h; Xen's docs/misc/xenstore.txt for the
// semantics): message types, the error names replies carry, the shared ring page, and the limits.

export const XS_CONTROL = 0;
export const XS_DIRECTORY = 1;
export const XS_READ = 2;
export const XS_GET_PERMS = 3;
export const XS_WATCH = 4;
export const XS_UNWATCH = 5;
export const XS_TRANSACTION_START = 6;
export const XS_TRANSACTION_END = 7;
export const XS_INTRODUCE = 8;
export const XS_RELEASE = 9;
export const XS_GET_DOMAIN_PATH = 10;
export const XS_WRITE = 11;
export const XS_MKDIR = 12;
export const XS_RM = 13;
export const XS_SET_PERMS = 14;
export const XS_WATCH_EVENT = 15;
export const XS_ERROR = 16;
export const XS_IS_DOMAIN_INTRODUCED = 17;
export const XS_RESUME = 18;
export const XS_SET_TARGET = 19;
export const XS_RESET_WATCHES = 21;
export const XS_DIRECTORY_PART = 22;

export const XS_NAMES: readonly string[] = [
  'CONTROL', 'DIRECTORY', 'READ', 'GET_PERMS', 'WATCH', 'UNWATCH', 'TRANSACTION_START', 'TRANSACTION_END', 'INTRODUCE',
  'RELEASE', 'GET_DOMAIN_PATH', 'WRITE', 'MKDIR', 'RM', 'SET_PERMS', 'WATCH_EVENT', 'ERROR', 'IS_DOMAIN_INTRODUCED',
  'RESUME', 'SET_TARGET', 'RESTRICT', 'RESET_WATCHES', 'DIRECTORY_PART',
];

/** The error names xs_wire.h's xsd_errors table lists: replies carry the name, never the number. */
export type XsError =
  | 'EINVAL' | 'EACCES' | 'EEXIST' | 'EISDIR' | 'ENOENT' | 'ENOMEM' | 'ENOSPC' | 'EIO' | 'ENOTEMPTY' | 'ENOSYS'
  | 'EROFS' | 'EBUSY' | 'EAGAIN' | 'EISCONN' | 'E2BIG';

/** struct xsd_sockmsg: type, req_id, tx_id, len (u32 each). */
export const XSD_SOCKMSG_SIZE = 16;
export const XENSTORE_PAYLOAD_MAX = 4096;
export const XENSTORE_ABS_PATH_MAX = 3072;
export const XENSTORE_REL_PATH_MAX = 2048;

// struct xenstore_domain_interface.
export const XENSTORE_RING_SIZE = 1024;
export const XS_RING_REQ = 0;
export const XS_RING_RSP = 1024;
export const XS_RING_REQ_CONS = 2048;
export const XS_RING_REQ_PROD = 2052;
export const XS_RING_RSP_CONS = 2056;
export const XS_RING_RSP_PROD = 2060;
export const XS_RING_SERVER_FEATURES = 2064;
export const XS_RING_CONNECTION = 2068;
export const XS_RING_ERROR = 2072;
export const XS_RING_INTERFACE_SIZE = 2076;
export const XENSTORE_SERVER_FEATURE_RECONNECTION = 1;
export const XENSTORE_SERVER_FEATURE_ERROR = 2;
export const XENSTORE_CONNECTED = 0;
export const XENSTORE_ERROR_NONE = 0;
export const XENSTORE_ERROR_COMM = 1;
export const XENSTORE_ERROR_RINGIDX = 2;
export const XENSTORE_ERROR_PROTO = 3;

// Permissions (docs/misc/xenstore.txt "<perm-as-string>"): n none, r read, w write, b both.
export const XS_PERM_NONE = 0;
export const XS_PERM_READ = 1;
export const XS_PERM_WRITE = 2;
export const XS_PERM_BOTH = 3;
export const PERM_CHARS = 'nrwb';

export interface XsPerm {
  readonly id: number;
  readonly perm: number;
}

/** "n0", "r1": the first entry names the owner and everyone's default; the rest grant domains more. */
export function formatPerm(p: XsPerm): string { return PERM_CHARS[p.perm]! + String(p.id); }

/** Parses one <perm-as-string>; null when malformed. */
export function parsePerm(s: string): XsPerm | null {
  const m = /^([nrwb])(\d{1,5})$/.exec(s);
  if (m === null) return null;
  const id = Number(m[2]);
  if (id >= 0x7ff0) return null;
  return { id, perm: PERM_CHARS.indexOf(m[1]!) };
}

/** xenbus states (io/xenbus.h). */
export const XenbusStateUnknown = 0;
export const XenbusStateInitialising = 1;
export const XenbusStateInitWait = 2;
export const XenbusStateInitialised = 3;
export const XenbusStateConnected = 4;
export const XenbusStateClosing = 5;
export const XenbusStateClosed = 6;
export const XenbusStateReconfiguring = 7;
export const XenbusStateReconfigured = 8;
