// Cost profiles (ARCHITECTURE.md "Metrics and the cost model"; docs/cost-model.md): the calibrated figures
// behind CostTable, each with its source and derivation, and the loader for `--cost kvm-x86|off|<file.json>`.

import { readFileSync } from 'node:fs';
import { COST_KINDS, COST_OFF, type CostKind, type CostProfile, type CostTable } from './cost.js';

/** A cost profile that cannot be used: one line saying what is wrong and what to do (the CLI exits 2). */
export class CostProfileError extends Error {
  override readonly name = 'CostProfileError';
}

// Anchors shared by several figures (docs/cost-model.md "Default figures"). All in cycles of the machine named.
/** kvm-unit-tests x86/vmexit.c `vmcall` on a Skylake-SP server (Wanpeng Li, March 2020). */
const VMCALL_SKX = 1529;
/** kvm-unit-tests commit 00bfecaa (Paolo Bonzini, 2012): four exit paths on one host and one KVM. */
const PB2012 = { vmcall: 3898, inlFromQemu: 20574, inlFromKernel: 7237, outlToKernel: 4451 } as const;
/** Scales a 2012 figure by its ratio to that machine's vmcall, onto the Skylake vmcall. */
const onSkx = (cycles2012: number): number => Math.round((VMCALL_SKX * cycles2012) / PB2012.vmcall);

const KU_2012 =
  'kvm-unit-tests commit 00bfecaa "vmexit: time the number of cycles for simple PIO" (P. Bonzini, 2012-12-13): ' +
  'vmcall 3898, inl_from_qemu 20574, inl_from_kernel 7237, outl_to_kernel 4451 cycles on one host';
const WL_VMCALL =
  'KVM patch "KVM: VMX: Micro-optimize vmexit time when not exposing PMU" v2 (Wanpeng Li, kvm@vger, 2020-03-13): ' +
  'kvm-unit-tests vmexit.flat "vmcall 1559" before, "vmcall 1529" after, on a Skylake-SP (SKX) server';

/**
 * KVM on x86 (Intel VT-x with EPT), the default profile. Absolute figures are anchored on a Skylake-SP server;
 * the 2012 kvm-unit-tests ratios place the exit paths the 2020 measurements do not cover.
 */
export const KVM_X86: CostProfile = Object.freeze({
  name: 'kvm-x86',
  costs: Object.freeze({
    exitUser: onSkx(PB2012.inlFromQemu), // 8070
    exitKernel: onSkx(PB2012.inlFromKernel), // 2839
    notify: onSkx(PB2012.outlToKernel), // 1746
    direct: 0,
    interruptInject: 3203,
    interruptDirect: 50,
    eoi: onSkx(PB2012.outlToKernel), // 1746
    hypercall: VMCALL_SKX,
    copyPerByte: 0.35,
    iotlbMiss: 750,
    perRequest: 542,
  } satisfies CostTable),
  sources: Object.freeze({
    exitUser:
      `${KU_2012}; the commit reads the inl_from_qemu - inl_from_kernel gap as "the cost of exiting to userspace". ` +
      `Derived: 1529 (SKX vmcall, ${WL_VMCALL}) x 20574/3898 = 8070. Cross-check: on an AMD EPYC running a hlt ` +
      'loop, kvm_arch_vcpu_ioctl_run() alone takes ~4600 cycles per KVM_RUN call (~2800 after the patch) ' +
      '(M. Roth, "KVM: SVM: use vmsave/vmload for saving/restoring additional host state", kvm@vger, 2020-12-14)',
    exitKernel:
      `${KU_2012}; inl_from_kernel reads an in-kernel device register through KVM's instruction emulator, ` +
      'the path an MMIO to an in-kernel device model takes. Derived: 1529 x 7237/3898 = 2839',
    notify:
      `${KU_2012}; outl_to_kernel is the in-kernel PIO write with no emulation, the path virtio's PIO ` +
      'notify takes; MMIO ioeventfd is "essentially as fast as PIO" on VMX (M. S. Tsirkin, Linux commit ' +
      '68c3b4d1676d "KVM: VMX: speed up wildcard MMIO EVENTFD"). Derived: 1529 x 4451/3898 = 1746 ' +
      '(excludes the eventfd wake-up of the backend thread, which runs on another core)',
    direct: 'Definition: an access to assigned hardware (SR-IOV VF BAR) does not leave the guest; no exit is charged',
    interruptInject:
      'KVM patch "KVM: LAPIC: Micro optimize IPI latency" (Wanpeng Li, kvm@vger, 2019-09-05): kvm-unit-tests ' +
      'vmexit.flat IPI test, from the sender sending the IPI to the sender receiving the ACK, 3319 -> 3203 cycles ' +
      'on a Skylake server. Used as measured: the virtual interrupt is delivered by an exit/IPI plus injection',
    interruptDirect:
      'ESTIMATE (no measurement found): a posted interrupt (VT-d PI, AIA guest interrupt file) reaches the ' +
      'running guest without an exit; 50 stands for the hardware notification processing only, far below any ' +
      'exiting path, and is non-zero so that it never ranks with "direct"',
    eoi:
      `${KU_2012}. An x2APIC EOI without APICv is a WRMSR exit handled in KVM's local APIC with no instruction ` +
      'emulation (the exit reports MSR and value), the same class as outl_to_kernel. Derived: 1529 x 4451/3898 = 1746',
    hypercall: `${WL_VMCALL}. Used as measured (the newer figure). Cross-check: vmentry+vmexit measured by ` +
      'kvm-unit-tests vmexit.flat at 1800 cycles on a 2.5 GHz Skylake server (Wanpeng Li, "KVM: LAPIC: ' +
      'Optimize timer latency consider world switch time" v3, kvm@vger, 2019-06-12)',
    copyPerByte:
      'Stack Overflow question 43343231 "Enhanced REP MOVSB for memcpy" (2017): rep movsb 15 GB/s on an ' +
      'i7-6700HQ (Skylake, DDR4-2400 dual channel), 1 GiB buffers, counting read+write bytes (2.0*n in its ' +
      'code). vhost copies with copy_{to,from}_user, i.e. rep movsb on ERMS parts. Derived: 7.5 GB/s copied ' +
      'at the i7-6700HQ\'s 2.6 GHz base clock = 2.6/7.5 = 0.35 cycles/byte (DRAM-bound; cache-hot packets ' +
      'copy faster; at its 3.5 GHz turbo it would be 0.47)',
    iotlbMiss:
      'ESTIMATE (no measurement could be retrieved; Amit et al., WIOSCA 2010 / USENIX ATC 2011 were not ' +
      'available here): a miss walks the 3-level Sv39x4 table, 3 dependent memory reads x 100 ns (an assumed ' +
      'DRAM round trip, not measured: this nested VM\'s pointer chase mostly measures its own TLB misses) x ' +
      '2.5 GHz = 750 cycles; high side on purpose, so the direct path is not flattered',
    perRequest:
      'KVM/vhost patch "vhost: don\'t touch avail ring if in_order is negotiated" v2 (Jason Wang, kvm@vger, ' +
      '2019-01-09): virtio-user + vhost_kernel + XDP_DROP on a 2.60GHz Broadwell, SMAP on, 4.8 Mpps before. ' +
      'Derived: 2.6e9 / 4.8e6 = 542 cycles per packet of a saturated vhost worker (includes its 64-byte copy, ' +
      'excludes a host network stack beyond the TAP)',
  } satisfies Record<CostKind, string>),
});

/** The built-in profiles by name. The first entry is the default. */
export const PROFILES: ReadonlyMap<string, CostProfile> = new Map<string, CostProfile>([
  [KVM_X86.name, KVM_X86],
  [COST_OFF.name, COST_OFF],
]);

export const DEFAULT_PROFILE: CostProfile = KVM_X86;

const FILE_KEYS = ['name', 'base', 'costs', 'sources'] as const;

/**
 * Resolves `--cost`: a built-in profile name (`kvm-x86`, `off`) or a path to a JSON file
 * `{ "name"?: string, "base"?: "kvm-x86" | "off", "costs": { ...partial CostTable }, "sources"?: { kind: text } }`
 * whose costs override the base profile's. Throws CostProfileError on anything it cannot use.
 */
export function loadCostProfile(spec: string): CostProfile {
  const builtIn = PROFILES.get(spec);
  if (builtIn) return builtIn;
  const names = [...PROFILES.keys()].join(', ');
  if (spec.trim() === '') fail(`empty cost profile: give one of ${names}, or a path to a JSON profile file`);
  let text: string;
  try {
    text = readFileSync(spec, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !spec.includes('/') && !spec.endsWith('.json')) {
      fail(`unknown cost profile '${spec}': give one of ${names}, or a path to a JSON profile file`);
    }
    if (code === 'ENOENT') fail(`cost profile file '${spec}' does not exist: check the path, or use one of ${names}`);
    if (code === 'EISDIR') fail(`cost profile '${spec}' is a directory: give the path of a JSON file`);
    fail(`cost profile file '${spec}' cannot be read (${code ?? String(e)}): check its permissions`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`cost profile '${spec}' is not valid JSON (${(e as Error).message}): fix the file`);
  }
  return parseProfileFile(spec, json);
}

/** Validates a parsed profile file and applies its overrides to its base. */
export function parseProfileFile(file: string, json: unknown): CostProfile {
  const where = `cost profile '${file}'`;
  if (!isPlainObject(json)) fail(`${where} must hold a JSON object like {"costs": {"exitUser": 8070}}, got ${kind(json)}`);
  for (const key of Object.keys(json)) {
    if (!(FILE_KEYS as readonly string[]).includes(key)) {
      fail(`${where} has unknown key '${key}': allowed keys are ${FILE_KEYS.join(', ')}`);
    }
  }
  const { name, base: baseName, costs, sources } = json;
  if (name !== undefined && !nonEmptyString(name)) fail(`${where}: "name" must be a non-empty string, got ${kind(name)}`);
  if (baseName !== undefined && typeof baseName !== 'string') fail(`${where}: "base" must be a string, got ${kind(baseName)}`);
  const base = PROFILES.get(baseName ?? DEFAULT_PROFILE.name);
  if (!base) fail(`${where}: unknown "base" ${kind(baseName)}: use one of ${[...PROFILES.keys()].join(', ')}`);
  if (costs === undefined) fail(`${where} has no "costs": add an object of overrides, e.g. {"costs": {"exitUser": 8070}}`);
  if (!isPlainObject(costs)) fail(`${where}: "costs" must be an object of cost kinds to numbers, got ${kind(costs)}`);
  if (sources !== undefined && !isPlainObject(sources)) {
    fail(`${where}: "sources" must be an object of cost kinds to citation strings, got ${kind(sources)}`);
  }

  const table: CostTable = { ...base.costs };
  const cited: Partial<Record<CostKind, string>> = { ...base.sources };
  for (const [key, value] of Object.entries(costs)) {
    const k = costKind(key, `${where}: unknown cost kind "costs.${key}"`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      fail(`${where}: "costs.${k}" must be a finite number >= 0 (guest-instruction equivalents), got ${kind(value)}`);
    }
    table[k] = value;
    cited[k] = `overridden by ${file} (no source given)`;
  }
  for (const [key, value] of Object.entries(sources ?? {})) {
    const k = costKind(key, `${where}: unknown cost kind "sources.${key}"`);
    if (!nonEmptyString(value)) fail(`${where}: "sources.${k}" must be a non-empty string, got ${kind(value)}`);
    if (!Object.hasOwn(costs, k)) fail(`${where}: "sources.${k}" cites a cost the file does not set: add "costs.${k}" or drop the source`);
    cited[k] = value;
  }
  return Object.freeze({
    name: name ?? file,
    costs: Object.freeze(table),
    sources: Object.freeze(cited),
  });
}

function costKind(key: string, message: string): CostKind {
  const k = COST_KINDS.find((c) => c === key);
  if (!k) fail(`${message}: known kinds are ${COST_KINDS.join(', ')}`);
  return k;
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A short description of a JSON value for error messages. */
function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v === 'object' ? 'an object' : typeof v;
}

function fail(message: string): never {
  throw new CostProfileError(message);
}
