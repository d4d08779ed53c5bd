// A test tool: runs the `vmio` command as a child process with a script on stdin and collects what it printed.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const VMIO_BIN = fileURLToPath(new URL('../../../bin/vmio.js', import.meta.url));

export interface VmioResult { status: number | null; stdout: string; stderr: string }

export function runVmio(args: string[], input = '', killAfterMs = 600_000): Promise<VmioResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VMIO_BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
    child.stdin.end(input);
  });
}
