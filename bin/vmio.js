#!/usr/bin/env -S node --max-semi-space-size=4
// The `vmio` command: runs the compiled CLI (npm ci / npm run build produce dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('vmio: dist/ is missing; run `npm ci` (or `npm run build`) in the vmio checkout first.\n');
  process.exit(2);
}
await import(main);
