// A small argument parser: positionals, `--flag value`, `--flag=value`, `-f value`, booleans.
export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[]>;
}

const BOOLEAN = new Set(['dry-run', 'wait', 'no-wait', 'all-namespaces', 'A', 'help', 'h', 'watch', 'w', 'exit-when-ready', 'no-demo']);
const ALIASES: Record<string, string> = { f: 'filename', n: 'namespace', A: 'all-namespaces', h: 'help', o: 'output', w: 'watch' };

export function parseArgs(argv: string[]): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  const add = (k: string, v: string) => flags.set(k, [...(flags.get(k) ?? []), v]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    const m = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/.exec(a);
    if (!m || a === '-') {
      positionals.push(a);
      continue;
    }
    const raw = m[1]!;
    const name = ALIASES[raw] ?? raw;
    if (m[2] !== undefined) add(name, m[2]);
    else if (BOOLEAN.has(raw) || BOOLEAN.has(name)) add(name, 'true');
    else {
      const v = argv[i + 1];
      if (v === undefined) throw new UsageError(`flag ${a} needs a value`);
      add(name, v);
      i++;
    }
  }
  return { positionals, flags };
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const flag = (a: ParsedArgs, name: string): string | undefined => a.flags.get(name)?.at(-1);
export const flags = (a: ParsedArgs, name: string): string[] => a.flags.get(name) ?? [];
export const bool = (a: ParsedArgs, name: string, dflt = false): boolean => {
  const v = flag(a, name);
  return v === undefined ? dflt : v !== 'false';
};
