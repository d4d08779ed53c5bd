// TAP backend. Without privileges: the ifreq layout, name checks and the one-line errors. As root with
// /dev/net/tun and iproute2: a real TAP, moved into a network namespace this test creates (so no address outside
// it is ever used), answers an ARP request and an ICMP echo request written from the backend side — the replies
// come from the namespace's kernel back through the backend and the NIC's port. Every wait is for an event,
// bounded by a deadline; none is a fixed sleep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  IFF_NO_PI, IFF_TAP, IFR_FLAGS_OFFSET, IFREQ_SIZE, TUNSETIFF, TapBackend, TapError, checkInterfaceName, ifreqName, makeIfreq, tapErrorMessage,
} from '../../../src/backends/net/tap.js';
import { NicPort } from '../../../src/backends/net/port.js';
import {
  ARPOP_REPLY, ARPOP_REQUEST, ICMP_ECHOREPLY, RecordingNic, arpFrame, arpRequest, equalBytes, icmpEcho, ipv4, mac, parseArp, parseIcmp,
} from '../../../src/backends/net/testing/frames.js';

test('TUNSETIFF is _IOW(\'T\', 202, int); struct ifreq is 40 bytes with ifr_flags at 16', () => {
  assert.equal(TUNSETIFF, (1 << 30) | (4 << 16) | (0x54 << 8) | 202);
  const ifr = makeIfreq('vmio0', IFF_TAP | IFF_NO_PI);
  assert.equal(ifr.length, IFREQ_SIZE);
  assert.equal(ifr.readUInt16LE(IFR_FLAGS_OFFSET), 0x1002);
  assert.equal(ifreqName(ifr), 'vmio0');
  assert.equal(ifr[5], 0, 'NUL-terminated');
});

test('interface names are checked as the kernel would', () => {
  for (const ok of ['tap0', 'vmio-net.1', 'a', 'x'.repeat(15), 'tap%d']) assert.equal(checkInterfaceName(ok), null, ok);
  for (const bad of ['', 'x'.repeat(16), '.', '..', 'a/b', 'a:b', 'a b', 'a\tb', 'tap%s', 'a%d%d', 'é'.repeat(8)]) {
    assert.notEqual(checkInterfaceName(bad), null, bad);
  }
});

test('each failure is one line that says what to do', () => {
  const cases: Array<[ 'open' | 'attach', string, RegExp]> = [
    ['open', 'ENOENT', /load the tun module .*\/dev\/net\/tun/],
    ['open', 'ENODEV', /load the tun module/],
    ['open', 'EACCES', /run vmio as root or give node CAP_NET_ADMIN: `sudo setcap cap_net_admin\+ep \$\(which node\)`/],
    ['attach', 'EPERM', /CAP_NET_ADMIN.*sudo setcap cap_net_admin\+ep \$\(which node\).*ip tuntap add dev tap7 mode tap/],
    ['attach', 'EBUSY', /busy.*another process/],
    ['attach', 'EINVAL', /exists and is not a TAP interface.*ip link del tap7/],
    ['attach', 'ENOMEM', /TUNSETIFF failed \(ENOMEM\)/],
  ];
  for (const [step, code, re] of cases) {
    const m = tapErrorMessage(step, code, 'tap7');
    assert.match(m, re, `${step} ${code}`);
    assert.ok(!m.includes('\n'), 'one line');
    assert.match(m, /^TAP 'tap7': /);
  }
});

test('without the clone device: a TapError that says to load the tun module', () => {
  assert.throws(() => TapBackend.open('vmio0', { device: '/nonexistent/net/tun' }), (e: unknown) => {
    assert.ok(e instanceof TapError);
    assert.equal(e.code, 'ENOENT');
    assert.match(e.message, /load the tun module/);
    return true;
  });
  assert.throws(() => TapBackend.open('bad/name'), (e: unknown) => e instanceof TapError && /'\/'/.test(e.message));
});

/** Why the privileged tests cannot run here, or null. */
function privilegedSkipReason(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (TAP creation needs CAP_NET_ADMIN)';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (ip) is not installed: apt-get install -y iproute2';
  return null;
}

function skipped(t: { skip(msg: string): void }): boolean {
  const why = privilegedSkipReason();
  if (why === null) return false;
  console.log(`skipped TAP test: ${why}`);
  t.skip(why);
  return true;
}

/** `promise`, or a rejection after `ms` (the timer is cleared either way, so it never holds the process). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(what)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', timeout: 10_000 });

/** Delivers what the port has (as the scheduler would), until `match` finds a frame or the deadline passes. */
async function awaitFrame<T>(port: NicPort, nic: RecordingNic, deadline: number, match: (f: Uint8Array) => T | null, onOther: (f: Uint8Array) => void = () => {}): Promise<T> {
  const seen: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    port.deliver();
    for (const f of nic.frames.splice(0)) {
      const m = match(f);
      if (m !== null) return m;
      onOther(f);
      if (seen.length < 20) seen.push(Buffer.from(f.subarray(0, 14)).toString('hex'));
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await port.wait(left);
  }
  throw new Error(`no matching frame before the deadline; frames seen (headers): ${seen.join(' ') || 'none'}`);
}

test('a real TAP in a private network namespace: the host kernel answers ARP and ping through the backend', { timeout: 60_000 }, async (t) => {
  if (skipped(t)) return;
  const ns = `vmio-tap-${process.pid}`;
  const ifname = `vmt${process.pid % 1_000_000}`;
  const hostIp = ipv4('192.0.2.1');
  const guestIp = ipv4('192.0.2.2');
  const guestMac = mac('52:54:00:12:34:56');
  ip('netns', 'add', ns);
  let tap: TapBackend | null = null;
  try {
    const failures: string[] = [];
    tap = TapBackend.open(ifname, { onFailure: (m) => failures.push(m) });
    assert.equal(tap.ifname, ifname);
    // The interface leaves the test's own namespace before it gets an address: all traffic stays inside `ns`.
    ip('link', 'set', 'dev', ifname, 'netns', ns);
    ip('-n', ns, 'addr', 'add', '192.0.2.1/24', 'dev', ifname);
    ip('-n', ns, 'link', 'set', 'dev', ifname, 'up');

    const nic = new RecordingNic();
    const port = new NicPort(tap, nic, { deterministic: true });
    assert.equal(port.live(), true);
    const deadline = Date.now() + 30_000;

    port.send(arpRequest(guestMac, guestIp, hostIp));
    const hostMac = await awaitFrame(port, nic, deadline, (f) => {
      const a = parseArp(f);
      return a !== null && a.op === ARPOP_REPLY && equalBytes(a.spa, hostIp) && equalBytes(a.tha, guestMac) && equalBytes(a.tpa, guestIp) ? a.sha : null;
    });
    assert.equal(hostMac.length, 6);

    const data = new TextEncoder().encode('vmio tap test payload');
    port.send(icmpEcho(hostMac, guestMac, guestIp, hostIp, 0x1234, 1, data));
    const reply = await awaitFrame(port, nic, deadline, (f) => {
      const m = parseIcmp(f);
      return m !== null && m.type === ICMP_ECHOREPLY && m.id === 0x1234 && m.seq === 1 ? m : null;
    }, (f) => {
      // The kernel may ask who has our address before it answers: reply as the guest's stack would.
      const a = parseArp(f);
      if (a !== null && a.op === ARPOP_REQUEST && equalBytes(a.tpa, guestIp)) port.send(arpFrame(a.sha, ARPOP_REPLY, guestMac, guestIp, a.sha, a.spa));
    });
    assert.deepEqual(reply.src, hostIp);
    assert.deepEqual(reply.dst, guestIp);
    assert.deepEqual(reply.data, data);
    assert.ok(reply.checksumOk);
    assert.ok(tap.counters.txFrames >= 2 && tap.counters.rxFrames >= 2, JSON.stringify(tap.counters));
    assert.equal(port.counters.rxDropped, 0);

    // A second open of the same interface is refused with a clear error, as is a name that is not a TAP.
    ip('-n', ns, 'link', 'set', 'dev', ifname, 'netns', '1');
    assert.throws(() => TapBackend.open(ifname), (e: unknown) => e instanceof TapError && e.code === 'EBUSY' && /busy/.test(e.message));
    assert.throws(() => TapBackend.open('lo'), (e: unknown) => e instanceof TapError && e.code === 'EINVAL' && /not a TAP/.test(e.message));
    ip('link', 'set', 'dev', ifname, 'netns', ns);

    // Deleting the interface under the backend stops it with a reason instead of spinning.
    ip('-n', ns, 'link', 'del', ifname);
    await within(tap.closed, 10_000, 'the backend did not notice the deleted interface');
    assert.equal(tap.linkUp, false);
    assert.match(tap.failure ?? '', /went away/);
    assert.deepEqual(failures, [tap.failure], 'told once');
    port.close();
  } finally {
    tap?.close();
    await tap?.closed;
    ip('netns', 'del', ns);
  }
});

test('a kernel-numbered TAP (%d) exists while open and is gone once close() resolves', { timeout: 30_000 }, async (t) => {
  if (skipped(t)) return;
  const tap = TapBackend.open('vmtq%d');
  try {
    assert.match(tap.ifname, /^vmtq\d+$/);
    assert.match(ip('link', 'show', 'dev', tap.ifname), new RegExp(`${tap.ifname}:`));
    // Never brought up and no address: nothing is sent anywhere.
  } finally {
    tap.close();
  }
  await tap.closed;
  assert.notEqual(spawnSync('ip', ['link', 'show', 'dev', tap.ifname]).status, 0, 'the interface disappeared with the fd');
});

test('without CAP_NET_ADMIN: EPERM with the setcap advice', { timeout: 30_000 }, (t) => {
  if (skipped(t)) return;
  if (spawnSync('setpriv', ['--version']).status !== 0) {
    console.log('skipped EPERM test: setpriv (util-linux) is not installed');
    t.skip('setpriv is not installed');
    return;
  }
  const mod = pathToFileURL(new URL('../../../src/backends/net/tap.js', import.meta.url).pathname).href;
  const script = `import(${JSON.stringify(mod)}).then((m) => { try { m.TapBackend.open('vmtp${process.pid % 1_000_000}'); console.log('opened'); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); } });`;
  const r = spawnSync('setpriv', ['--bounding-set', '-net_admin', '--inh-caps', '-net_admin', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { code: string; message: string };
  assert.equal(out.code, 'EPERM');
  assert.match(out.message, /sudo setcap cap_net_admin\+ep \$\(which node\)/);
});
