// The flags Node runs vmio with: bin/vmio.js's first line gives them (`#!/usr/bin/env -S node ...`), and the
// benchmarks start their child processes with them so that those run as `vmio run` does.
//
// --max-semi-space-size=4 (MiB; Node 20's default grows to 16): V8's young generation stays small. A boot
// allocates ~100 MiB of short-lived objects; with room to grow the nursery touched ~2,500 more fresh pages (one
// page fault each, ~12 µs on a host that is itself a VM) and lost cache locality, for fewer scavenges that were
// cheap anyway (14 against 19). Boot to ready, 14 alternated boots: 0.885 -> 0.833 s (8 MiB: 0.835 -> 0.804 s
// for 4; 2 MiB: the same as 4).

export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
