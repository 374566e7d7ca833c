#!/usr/bin/env bun
// `leither`: the command-line entry. The command table is here; each command's code loads on use.
import { helpText, parseArgs, UsageError, DATA_FLAG, type CommandSpec, type Parsed } from './cli/args.ts'
import { LOG_LEVELS } from './config/index.ts'
import { LeitherError } from './errors.ts'

interface Command extends CommandSpec {
  run(p: Parsed): number | Promise<number>
}

const PORT = { type: 'int', min: 0, max: 65535 } as const

export const COMMANDS: Command[] = [
  {
    name: 'run',
    summary: 'Run the node in the foreground until SIGINT or SIGTERM (the default command).',
    details: 'When serving, prints one line "ready http://HOST:PORT" on stdout; logs go to stderr and DATA/logs.',
    flags: [
      DATA_FLAG,
      { name: 'port', ...PORT, help: 'HTTP/RPC port, 0 = any free (env LEITHER_PORT, default 4800)' },
      { name: 'p2p-port', ...PORT, help: 'libp2p TCP port, 0 = any free (default 4801)' },
      { name: 'host', type: 'string', value: 'HOST', help: 'address to bind (default 0.0.0.0)' },
      { name: 'log-level', type: 'string', value: 'LEVEL', choices: LOG_LEVELS, help: LOG_LEVELS.join(' | ') },
    ],
    run: async (p) => (await import('./cli/run.ts')).runCommand(p),
  },
  {
    name: 'init',
    summary: 'Create the data dir: config with defaults, node key and owner key. Safe to run twice.',
    flags: [DATA_FLAG],
    run: async (p) => (await import('./cli/node.ts')).initCommand(p),
  },
  {
    name: 'id',
    summary: "Print this node's id, libp2p peer id, owner and addresses.",
    flags: [DATA_FLAG, { name: 'json', type: 'bool', help: 'print JSON' }],
    run: async (p) => (await import('./cli/node.ts')).idCommand(p),
  },
  {
    name: 'key new',
    summary: "Create a user key in the data dir and print the new user's id.",
    flags: [DATA_FLAG, { name: 'name', type: 'string', value: 'NAME', help: 'a name for the key (default user-N)' }],
    run: async (p) => (await import('./cli/key.ts')).keyNew(p),
  },
  {
    name: 'key list',
    summary: 'List the user keys in the data dir.',
    flags: [DATA_FLAG, { name: 'json', type: 'bool', help: 'print JSON' }],
    run: async (p) => (await import('./cli/key.ts')).keyList(p),
  },
  {
    name: 'key export',
    summary: 'Print a user key, secret included, as JSON (for backup or another node).',
    args: '[ID|NAME]',
    maxArgs: 1,
    details: 'Without an argument the owner key is exported. Keep the output secret.',
    flags: [DATA_FLAG],
    run: async (p) => (await import('./cli/key.ts')).keyExport(p),
  },
  {
    name: 'call',
    summary: 'Call one syscall on a node and print the result as JSON.',
    args: 'METHOD [JSON-ARG ...]',
    maxArgs: 64,
    details: [
      'Each argument is JSON; one that is not valid JSON is taken as a string. A syscall that takes',
      'a session logs in as the node owner (key from the data dir) and gets the sid first, unless',
      '--guest is given.',
      'JSON forms for other types: {"$bigint":"123"}, {"$bytes":"<base64>"}, {"$date":"<ISO>"}.',
      'Exit 1 with the error text when the node answers with an error.',
      '',
      'Examples:  leither call GetVar ver      leither call WhoAmI      leither call Echo \'{"a":[1,2]}\'',
    ].join('\n'),
    flags: [
      DATA_FLAG,
      { name: 'node', type: 'string', value: 'URL', help: 'node to call (default http://127.0.0.1:<port from config>)' },
      { name: 'guest', type: 'bool', help: 'call as a guest (sid "") instead of logging in' },
    ],
    run: async (p) => (await import('./cli/call.ts')).callCommand(p),
  },
  {
    name: 'version',
    summary: 'Print the version of leither and of the runtime.',
    flags: [],
    run: async () => (await import('./cli/node.ts')).versionCommand(),
  },
]

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2
  return [
    'leither: a node of the Leither decentralized cloud operating system.',
    '',
    'Usage: leither [COMMAND] [flags]    (no command = run)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    `  ${'help'.padEnd(width)}Show help for a command: leither help COMMAND`,
    '',
    'Every command takes --help.',
  ].join('\n') + '\n'
}

/** Finds the longest command name that prefixes argv ("key new" before "key"). */
function resolve(argv: string[]): { command?: Command; rest: string[]; group?: string } {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ')
    const command = COMMANDS.find((c) => c.name === name)
    if (command) return { command, rest: argv.slice(words) }
  }
  const group = COMMANDS.some((c) => c.name.startsWith(`${argv[0]} `)) ? argv[0] : undefined
  return { rest: argv, group }
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0].startsWith('-')) {
    if (argv[0] === '--help' || argv[0] === '-h') {
      process.stdout.write(overview())
      return 0
    }
    if (argv[0] === '--version') argv = ['version']
    else argv = ['run', ...argv]
  }
  if (argv[0] === 'help') {
    const { command } = resolve(argv.slice(1))
    process.stdout.write(command ? helpText(command) : overview())
    return 0
  }
  const { command, rest, group } = resolve(argv)
  try {
    if (!command) {
      if (group) {
        const subs = COMMANDS.filter((c) => c.name.startsWith(`${group} `)).map((c) => c.name.split(' ')[1])
        if (rest.length === 1 || rest[1] === '--help' || rest[1] === '-h') {
          process.stdout.write(`Usage: leither ${group} ${subs.join('|')} [flags]\n\nRun: leither ${group} SUBCOMMAND --help\n`)
          return rest.length === 1 ? 2 : 0
        }
        throw new UsageError(`leither ${group}: unknown subcommand "${rest[1]}" (one of: ${subs.join(', ')})`)
      }
      throw new UsageError(`leither: unknown command "${argv[0]}" (see: leither --help)`)
    }
    const parsed = parseArgs(command, rest)
    if (parsed.help) {
      process.stdout.write(helpText(command))
      return 0
    }
    return await command.run(parsed)
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(err.message)
      return 2
    }
    if (err instanceof LeitherError) {
      // Config errors are bad values too: same exit code as a bad flag.
      console.error(`leither: ${err.wireText()}`)
      return err.code === 'InvalidParams' ? 2 : 1
    }
    console.error(`leither: ${(err as Error)?.stack ?? err}`)
    return 1
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2))
  process.exit(code)
}
