// What the reference guest prints on its console, for tests and tools that drive it (see guest/init).

/** The one line /init prints when the guest is up: `vmio-guest: ready (uptime 0.42 0.31)` (from /proc/uptime). */
export const READY_LINE_RE = /vmio-guest: ready \(uptime (\d+\.\d+) (\d+\.\d+)\)/;

/** The shell prompt of the guest's login shell (guest/profile). */
export const PROMPT = 'vmio-guest:';
