// Command lines, one declaration per command: its usage, its options and how many positionals
// it takes. Parsing is node:util's parseArgs with strict: true, so an unknown flag, a missing
// value or an unexpected argument is refused (exit 2) with that command's usage, instead of
// being silently ignored.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type OptionSpec = NonNullable<ParseArgsConfig['options']>[string];

export interface CommandSpec {
  /** `get clusters`, `apply`, … */
  name: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** Booleans that also take kubectl's `--flag=false` / `--no-flag`. */
  negatable?: string[];
  /** Allowed values of string options: checked here, so a bad value never reaches a server. */
  choices?: Record<string, readonly string[]>;
  /** `variadic`: the last name may repeat (`annotate machine NAME KEY=VALUE...`). */
  positionals: { names: string[]; required: number; variadic?: boolean };
}

export interface ParsedCommand {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** A command line we do not understand: exit 2 with the command's usage. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

const HELP: Record<string, OptionSpec> = { help: { type: 'boolean', short: 'h' } };

/** Whether the command line asks for help; checked before anything else is validated. */
export function wantsHelp(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

export function parseCommand(spec: CommandSpec, argv: string[]): ParsedCommand {
  const fail = (msg: string): never => {
    throw new UsageError(`${spec.name}: ${msg}`, spec.usage);
  };
  // A flag that takes a value takes a negative number after it (`--replicas -1`, as kubectl's
  // flags do), which parseArgs would read as a flag of its own: it is joined as `--replicas=-1`.
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = /^--([\w-]+)$/.exec(a)?.[1] ?? Object.entries(spec.options).find(([, o]) => o.short && `-${o.short}` === a)?.[0];
    const next = argv[i + 1];
    if (name && spec.options[name]?.type === 'string' && next !== undefined && /^-\d+(\.\d+)?$/.test(next)) {
      joined.push(`--${name}=${next}`);
      i++;
    } else joined.push(a);
  }
  // kubectl spells a false boolean `--wait=false`; parseArgs knows only `--no-wait`.
  const args = joined.map((a) => {
    const m = /^--([\w-]+)=(.*)$/.exec(a);
    if (!m || !spec.negatable?.includes(m[1]!)) return a;
    if (m[2] === 'true') return `--${m[1]}`;
    if (m[2] === 'false') return `--no-${m[1]}`;
    return fail(`--${m[1]}: expected true or false, got "${m[2]}"`);
  });
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: { ...spec.options, ...HELP }, strict: true, allowPositionals: spec.positionals.names.length > 0, allowNegative: !!spec.negatable?.length });
  } catch (err) {
    const e = err as Error & { code?: string };
    const quoted = /'([^']+)'/.exec(e.message)?.[1] ?? '';
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return fail(`unknown flag ${quoted}`);
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return fail(`unexpected argument "${quoted}"`);
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const flag = quoted.replace(/ <value>$/, '').replace(', ', '/');
      return fail(/does not take an argument/.test(e.message) ? `flag ${flag} takes no value` : `flag ${flag} needs a value`);
    }
    return fail(e.message);
  }
  const values = parsed.values as ParsedCommand['values'];
  for (const key of Object.keys(values)) {
    // allowNegative accepts --no-X for every boolean; only the declared ones mean something.
    if (typeof values[key] === 'boolean' && values[key] === false && !spec.negatable?.includes(key)) return fail(`unknown flag --no-${key}`);
  }
  for (const [key, allowed] of Object.entries(spec.choices ?? {})) {
    const v = values[key];
    if (typeof v === 'string' && !allowed.includes(v)) {
      const short = spec.options[key]?.short;
      return fail(`${short ? `-${short}/` : ''}--${key}: "${v}" is not one of ${allowed.join(', ')}`);
    }
  }
  const { names, required, variadic } = spec.positionals;
  if (!variadic && parsed.positionals.length > names.length) return fail(`unexpected argument "${parsed.positionals[names.length]}"`);
  if (parsed.positionals.length < required) return fail(`missing ${names[parsed.positionals.length]}`);
  return { values, positionals: parsed.positionals };
}

export const str = (p: ParsedCommand, name: string): string | undefined => {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
};
export const strs = (p: ParsedCommand, name: string): string[] => {
  const v = p.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
};
export const bool = (p: ParsedCommand, name: string, dflt = false): boolean => {
  const v = p.values[name];
  return typeof v === 'boolean' ? v : dflt;
};
