// Runs the production programs (dist/*.mjs) as child processes with plain `node`, from any folder.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface Program {
  child: ChildProcess;
  /** The first http:// URL the program printed ("… listening on http://127.0.0.1:40123"). */
  url: string;
  output(): string;
  /** SIGTERM, then the exit code (or signal). */
  stop(): Promise<number | string | null>;
}

/** Starts `node <script>` in `cwd` with exactly `env` (plus PATH), and waits for it to print its URL. */
export function startProgram(
  node: string,
  script: string,
  cwd: string,
  env: Record<string, string>,
): Promise<Program> {
  const child = spawn(node, [script], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal));
  });
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (match) {
        child.stdout.off('data', onData);
        child.stdout.on('data', (more: Buffer) => (output += more.toString('utf8')));
        resolve({
          child,
          url: match[1]!,
          output: () => output,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    void exited.then((code) => reject(new Error(`${script} exited (${code}) before listening:\n${output}`)));
  });
}

/** Runs `node <script> ...args` to the end. */
export function runProgram(
  node: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
