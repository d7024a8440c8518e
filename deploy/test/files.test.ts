// The deployment files agree with the server and with each other: the environment example is a configuration
// the server accepts in production, and the systemd units start the programs the build makes, on the ports
// HAProxy balances.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadEnv } from '@lending/server';
import { describe, expect, it } from 'vitest';
import { HAPROXY_CONFIG } from '../src/haproxy';

const deployDir = path.resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(path.join(deployDir, file), 'utf8');

function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}

describe('deploy files', () => {
  it('lending.env.example is a production configuration the server accepts', async () => {
    const env = parseEnvFile(read('lending.env.example'));
    expect(env.NODE_ENV).toBe('production');
    const config = await loadEnv(
      { ...env, PORT: '3001' },
      { demoServiceKeys: () => Promise.reject(new Error('unused')) },
    );
    expect(config).toMatchObject({ nodeEnv: 'production', port: 3001, trustProxy: true });
    expect(config.databaseUrl).toMatch(/^postgres:\/\//);
  });

  it('the units start the built programs on the ports HAProxy balances', () => {
    const server = read('systemd/lending@.service');
    expect(server).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/lending\/dist\/server\.mjs$/m);
    expect(server).toMatch(/^KillSignal=SIGTERM$/m);
    const portPattern = /^Environment=PORT=(\d+)%i/m.exec(server)![1]!;
    const balanced = [
      ...readFileSync(HAPROXY_CONFIG, 'utf8').matchAll(/^\s+server lending(\d) 127\.0\.0\.1:(\d+)$/gm),
    ];
    expect(balanced.length).toBeGreaterThan(1);
    for (const [, instance, port] of balanced) expect(port).toBe(`${portPattern}${instance}`);
    expect(read('systemd/lending-purge.service')).toMatch(
      /^ExecStart=\/usr\/bin\/node \/opt\/lending\/dist\/purge\.mjs --yes$/m,
    );
  });

  // systemd-analyze comes with systemd (Debian ships it even in containers); without it only the test above runs.
  it.skipIf(!existsSync('/usr/bin/systemd-analyze'))('the units pass systemd-analyze verify', () => {
    for (const unit of ['systemd/lending@.service', 'systemd/lending-purge.service']) {
      const result = spawnSync('/usr/bin/systemd-analyze', ['verify', path.join(deployDir, unit)], {
        encoding: 'utf8',
      });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
    }
  });
});
