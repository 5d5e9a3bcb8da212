// `capstan dev` writes where its servers listen to <data dir>/dev.env, so other capstan
// commands in another terminal find them without any setup. Real environments set the
// variables themselves (TEMPORAL_ADDRESS, CAPSTAN_SIM_URL, ...), which always win.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const devEnvFile = (dataDir: string) => join(dataDir, 'dev.env');

export function writeDevEnv(dataDir: string, vars: Record<string, string>): void {
  writeFileSync(devEnvFile(dataDir), Object.entries(vars).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
}

export function loadDevEnv(dataDir: string, env: NodeJS.ProcessEnv = process.env): void {
  const f = devEnvFile(dataDir);
  if (!existsSync(f)) return;
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m && env[m[1]!] === undefined) env[m[1]!] = m[2]!;
  }
}
