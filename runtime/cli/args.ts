// Command-line parsing and help text for `leither` commands: strict flags, one-line errors.
import { InvalidParams } from '../errors.ts'
import { isKeyId } from '../identity/keys.ts'
import { parseIntStrict } from '../config/index.ts'

export interface FlagSpec {
  /** Long name without dashes, e.g. "p2p-port". */
  name: string
  type: 'string' | 'int' | 'bool' | 'list'
  help: string
  /** Placeholder shown in help, e.g. DIR. */
  value?: string
  /** A one-letter alias, e.g. "o" for -o. */
  short?: string
  /** Allowed values, checked at parse time. */
  choices?: readonly string[]
  min?: number
  max?: number
}

export interface CommandSpec {
  /** Full command path, e.g. "key new". */
  name: string
  summary: string
  /** Positional arguments as shown in usage, e.g. "[ID|NAME]". */
  args?: string
  /** Longest accepted positional count (default 0). */
  maxArgs?: number
  flags: FlagSpec[]
  details?: string
}

export interface Parsed {
  flags: Record<string, string | number | boolean | string[] | undefined>
  args: string[]
  help: boolean
}

/** Usage errors exit with code 2 (as POSIX utilities do), runtime errors with 1. */
export class UsageError extends InvalidParams {}

export function parseArgs(spec: CommandSpec, argv: string[]): Parsed {
  const out: Parsed = { flags: {}, args: [], help: false }
  const byName = new Map(spec.flags.map((f) => [f.name, f]))
  const fail = (msg: string): never => {
    throw new UsageError(`leither ${spec.name}: ${msg} (see: leither ${spec.name} --help)`)
  }
  for (let i = 0; i < argv.length; i++) {
    // Key and MiMei ids are base64url: one may begin with '-' or '--', and is an argument all the same.
    if (isKeyId(argv[i])) {
      out.args.push(argv[i])
      continue
    }
    const alias = /^-[A-Za-z]$/.test(argv[i]) ? spec.flags.find((f) => f.short === argv[i][1]) : undefined
    const arg = alias ? `--${alias.name}` : argv[i]
    if (arg === '--help' || arg === '-h') {
      out.help = true
      continue
    }
    if (arg === '--') {
      out.args.push(...argv.slice(i + 1))
      break
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg.startsWith('-') && arg !== '-' && !/^-\d/.test(arg)) fail(`unknown flag ${arg}`)
      out.args.push(arg)
      continue
    }
    const eq = arg.indexOf('=')
    const name = arg.slice(2, eq < 0 ? undefined : eq)
    const flag = byName.get(name)
    if (!flag) fail(`unknown flag --${name}`)
    let raw: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1)
    if (flag!.type === 'bool') {
      if (raw !== undefined && raw !== 'true' && raw !== 'false') fail(`--${name} takes no value`)
      out.flags[name] = raw !== 'false'
      continue
    }
    if (raw === undefined) {
      if (i + 1 >= argv.length) fail(`--${name} needs a value`)
      raw = argv[++i]
    }
    out.flags[name] = convert(flag!, raw!, fail, out.flags[name])
  }
  if (!out.help && out.args.length > (spec.maxArgs ?? 0)) fail(`unexpected argument "${out.args[spec.maxArgs ?? 0]}"`)
  return out
}

function convert(flag: FlagSpec, raw: string, fail: (m: string) => never, prev: Parsed['flags'][string]) {
  if (flag.choices && !flag.choices.includes(raw)) fail(`--${flag.name} must be one of ${flag.choices.join(', ')}, not "${raw}"`)
  switch (flag.type) {
    case 'int': {
      const n = parseIntStrict(raw)
      const min = flag.min ?? Number.MIN_SAFE_INTEGER
      const max = flag.max ?? Number.MAX_SAFE_INTEGER
      if (!Number.isSafeInteger(n) || n < min || n > max) fail(`--${flag.name} must be an integer ${min}..${max}, not "${raw}"`)
      return n
    }
    case 'list':
      return [...((prev as string[] | undefined) ?? []), raw]
    default:
      if (raw === '') fail(`--${flag.name} must not be empty`)
      return raw
  }
}

export function helpText(spec: CommandSpec): string {
  const lines = [`Usage: leither ${spec.name}${spec.flags.length ? ' [flags]' : ''}${spec.args ? ' ' + spec.args : ''}`, '', spec.summary]
  if (spec.details) lines.push('', spec.details)
  const rows = [...spec.flags, { name: 'help', type: 'bool', help: 'show this help' } as FlagSpec].map((f) => [
    `  ${f.short ? `-${f.short}, ` : ''}--${f.name}${f.type === 'bool' ? '' : ' ' + (f.value ?? (f.type === 'int' ? 'N' : 'VALUE'))}`,
    f.help + (f.type === 'list' ? ' (repeatable)' : ''),
  ])
  const width = Math.max(...rows.map((r) => r[0].length)) + 2
  lines.push('', 'Flags:', ...rows.map(([a, b]) => a.padEnd(width) + b))
  return lines.join('\n') + '\n'
}

/** Flags most commands share. */
export const DATA_FLAG: FlagSpec = {
  name: 'data',
  type: 'string',
  value: 'DIR',
  help: 'data directory (env LEITHER_DATA, default ~/.leither)',
}

export const NODE_FLAG: FlagSpec = {
  name: 'node',
  type: 'string',
  value: 'URL',
  help: 'node to talk to (default http://127.0.0.1:<port from config>)',
}
