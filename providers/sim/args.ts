// Command-line flags of the simulated cloud's process (main.ts).
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { isProfileName, parseRange, resolveProfile, type ProfileOverrides, type SimProfile } from './profile.js';

export interface MainArgs {
  dataDir: string;
  port?: number;
  profile: SimProfile;
  seed: number;
  runtime: 'noop' | 'kubernetes';
  runtimeOptions: Record<string, string>;
}

export const USAGE = `usage: main.ts --data-dir DIR [--port N] [--profile demo|test] [--seed N]
  [--runtime noop|kubernetes] [--runtime-opt key=value]... [--api-latency-ms MIN-MAX]
  [--boot-ms MIN-MAX] [--delete-ms MIN-MAX] [--node-ready-ms MIN-MAX] [--pod-start-ms MIN-MAX]
  [--retry-after-ms MIN-MAX]`;

const RANGE_FLAGS: Record<string, keyof ProfileOverrides> = {
  '--api-latency-ms': 'apiLatencyMs',
  '--boot-ms': 'bootMs',
  '--delete-ms': 'deleteMs',
  '--node-ready-ms': 'nodeReadyMs',
  '--pod-start-ms': 'podStartMs',
  '--retry-after-ms': 'retryAfterMs',
};

export function parseArgs(argv: string[]): MainArgs {
  let dataDir: string | undefined;
  let port: number | undefined;
  let profileName = 'demo';
  let seed: number | undefined;
  // TODO(--runtime): make `kubernetes` the default once providers/sim/host/ exists.
  let runtime: 'noop' | 'kubernetes' = 'noop';
  const runtimeOptions: Record<string, string> = {};
  const overrides: ProfileOverrides = {};
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i]!;
    let value: string | undefined;
    const eq = flag.indexOf('=');
    if (flag.startsWith('--') && eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    const next = (): string => {
      if (value !== undefined) return value;
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--data-dir':
        dataDir = next();
        break;
      case '--port': {
        const v = next();
        port = Number(v);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port: ${v}`);
        break;
      }
      case '--profile':
        profileName = next();
        if (!isProfileName(profileName)) throw new Error(`--profile: expected demo or test, got ${profileName}`);
        break;
      case '--seed': {
        const v = next();
        seed = Number(v);
        if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`--seed: expected an integer in [0, 2^32), got ${v}`);
        break;
      }
      case '--runtime': {
        const v = next();
        if (v !== 'noop' && v !== 'kubernetes') throw new Error(`--runtime: expected noop or kubernetes, got ${v}`);
        runtime = v;
        break;
      }
      case '--runtime-opt': {
        const v = next();
        const at = v.indexOf('=');
        if (at <= 0) throw new Error(`--runtime-opt: expected key=value, got ${v}`);
        runtimeOptions[v.slice(0, at)] = v.slice(at + 1);
        break;
      }
      case '--help':
      case '-h':
        throw new Error(USAGE);
      default: {
        const key = RANGE_FLAGS[flag];
        if (!key) throw new Error(`unknown flag ${flag}\n${USAGE}`);
        overrides[key] = parseRange(next(), flag);
      }
    }
  }
  if (!dataDir) throw new Error(`--data-dir is required\n${USAGE}`);
  return {
    dataDir: path.resolve(dataDir),
    port,
    profile: resolveProfile(profileName as 'demo' | 'test', overrides),
    seed: seed ?? randomInt(0, 0xffffffff),
    runtime,
    runtimeOptions,
  };
}
