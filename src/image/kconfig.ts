// Kconfig .config / fragment parsing and the "did every wanted option end up set" check (kernel and busybox).

/** Symbol -> value ('y', 'm', '8', '"text"'); "# CONFIG_X is not set" gives 'n'. */
export function parseKconfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const set = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (set?.[1] !== undefined && set[2] !== undefined) { out.set(set[1], set[2]); continue; }
    const unset = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/.exec(line);
    if (unset?.[1] !== undefined) out.set(unset[1], 'n');
  }
  return out;
}

/** Symbols listed on "# vmio-check: CONFIG_A CONFIG_B" lines: options without a prompt that must be =y. */
export function extraChecks(fragment: string): string[] {
  const out: string[] = [];
  for (const m of fragment.matchAll(/^#\s*vmio-check:(.*)$/gm)) {
    for (const s of (m[1] ?? '').trim().split(/\s+/)) if (s) out.push(s);
  }
  return out;
}

/**
 * The wanted settings of `fragment` that `config` does not have, as "CONFIG_X (wanted y, got n)" strings.
 * A wanted 'n' is satisfied by an absent symbol; anything else must match exactly.
 */
export function missingOptions(fragment: string, config: string): string[] {
  const want = parseKconfig(fragment);
  for (const s of extraChecks(fragment)) want.set(s, 'y');
  const have = parseKconfig(config);
  const out: string[] = [];
  for (const [sym, value] of want) {
    const got = have.get(sym) ?? 'n';
    if (got !== value) out.push(`${sym} (wanted ${value}, got ${got === 'n' && !have.has(sym) ? 'absent' : got})`);
  }
  return out;
}
