#!/usr/bin/env bun
// `leither`: the command-line entry. The command table is here; each command's code loads on use.
import { helpText, parseArgs, UsageError, DATA_FLAG, NODE_FLAG, type CommandSpec, type Parsed } from './cli/args.ts'
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
      { name: 'host', type: 'string', value: 'HOST', help: 'address the HTTP/RPC server binds (default 127.0.0.1; 0.0.0.0 opens it to the network)' },
      { name: 'log-level', type: 'string', value: 'LEVEL', choices: LOG_LEVELS, help: LOG_LEVELS.join(' | ') },
      { name: 'bootstrap', type: 'list', value: 'MULTIADDR', help: 'join the network through this node (with /p2p/<peer id>)' },
      { name: 'no-mdns', type: 'bool', help: 'do not look for nodes on the LAN' },
      { name: 'offline', type: 'bool', help: 'no network: local data and apps only' },
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
    flags: [DATA_FLAG, NODE_FLAG, { name: 'guest', type: 'bool', help: 'call as a guest (sid "") instead of logging in' }],
    run: async (p) => (await import('./cli/call.ts')).callCommand(p),
  },
  ...mimeiCommands(),
  ...appCommands(),
  {
    name: 'app shortcut',
    summary: 'Write a small HTML file that finds a reachable node and opens the app there (a desktop shortcut).',
    args: 'APP',
    maxArgs: 1,
    details: [
      'APP is an installed app\'s id or name. The file (at most 8 KB) lists the node\'s addresses, loopback first,',
      'then its LAN addresses when the HTTP server listens on them, then any --addr; opened from file:// it tries',
      'each with a short timeout and opens the app on the first node that answers. Apps open on the node\'s own',
      'machine (their origins are <id>.localhost); from another machine the file opens that node\'s launcher.',
    ].join('\n'),
    flags: [
      DATA_FLAG,
      NODE_FLAG,
      { name: 'out', short: 'o', type: 'string', value: 'FILE', help: 'where to write it (default APPNAME.html)' },
      { name: 'addr', type: 'list', value: 'URL', help: 'another address to try after the node\'s own, e.g. http://192.168.1.5:4800' },
    ],
    run: async (p) => (await import('./cli/shortcut.ts')).shortcutCommand(p),
  },
  {
    name: 'open',
    summary: 'Sign in to the launcher (or an app) in a browser: prints a one-time link and opens it.',
    args: '[APP]',
    maxArgs: 1,
    details: [
      'Logs in as the node owner (key from the data dir) and asks the node for a sign-in code (SessionCode).',
      'The link works once, within a minute. APP (an installed app\'s id or name) opens that app instead.',
      'The browser is started with xdg-open, open or start where there is one; --no-browser only prints.',
    ].join('\n'),
    flags: [DATA_FLAG, NODE_FLAG, { name: 'no-browser', type: 'bool', help: 'only print the link' }],
    run: async (p) => (await import('./cli/open.ts')).openCommand(p),
  },
  ...userCommands(),
  ...coinCommands(),
  {
    name: 'gc',
    summary: 'Delete content blocks that no MiMei version or reference holds (on a running node).',
    flags: [DATA_FLAG, NODE_FLAG, { name: 'grace', type: 'int', min: 0, value: 'SEC', help: 'keep blocks younger than this (default 3600)' }],
    run: async (p) => (await import('./cli/mimei.ts')).gcCommand(p),
  },
  {
    name: 'peers',
    summary: 'List the nodes a running node is connected to (peer id, direction, round trip, addresses).',
    flags: [DATA_FLAG, NODE_FLAG, { name: 'json', type: 'bool', help: 'print JSON' }],
    run: async (p) => (await import('./cli/net.ts')).peersCommand(p),
  },
  {
    name: 'connect',
    summary: 'Make a running node connect to another node.',
    args: 'MULTIADDR',
    maxArgs: 1,
    details: 'MULTIADDR as another node prints it (leither id, GetVar nodeaddrs), e.g. /ip4/1.2.3.4/tcp/4801/p2p/12D3KooW…;\nthrough a relay: /ip4/RELAY-IP/tcp/4801/p2p/RELAY-ID/p2p-circuit/p2p/PEER-ID.',
    flags: [DATA_FLAG, NODE_FLAG, { name: 'json', type: 'bool', help: 'print JSON' }],
    run: async (p) => (await import('./cli/net.ts')).connectCommand(p),
  },
  {
    name: 'monitor',
    summary: 'Print the calls a node served on one day, per syscall and HTTP route: count, errors, avg, p95, max.',
    details: [
      'Days are UTC days. Each node is asked with a login signed by the owner key in the data dir, so',
      'other nodes answer when you own them too: copy your keys/users/<id>.key there and set "owner"',
      'to your id in its leither.json.',
      '',
      'Example:  leither monitor --day 2026-01-31 --sort max --node http://10.0.0.2:4800 --node http://10.0.0.3:4800',
    ].join('\n'),
    flags: [
      DATA_FLAG,
      { name: 'day', type: 'string', value: 'YYYY-MM-DD', help: 'the UTC day (default today)' },
      { name: 'sort', type: 'string', value: 'KEY', choices: ['count', 'avg', 'max', 'p95', 'errors', 'name'], help: 'count (default) | avg | max | p95 | errors | name' },
      { name: 'kind', type: 'string', value: 'KIND', choices: ['syscall', 'http'], help: 'only syscalls or only HTTP routes' },
      { name: 'node', type: 'list', value: 'URL', help: 'node to ask (default http://127.0.0.1:<port from config>)' },
      { name: 'json', type: 'bool', help: 'print JSON' },
      { name: 'open', type: 'bool', help: 'open the monitor page in a browser instead (a one-time sign-in link; the first --node)' },
    ],
    run: async (p) => (await import('./cli/monitor.ts')).monitorCommand(p),
  },
  {
    name: 'version',
    summary: 'Print the version of leither and of the runtime.',
    flags: [],
    run: async () => (await import('./cli/node.ts')).versionCommand(),
  },
]

/** `leither mimei …`: each talks to a running node as its owner. */
function mimeiCommands(): Command[] {
  const base = [DATA_FLAG, NODE_FLAG]
  const json = { name: 'json', type: 'bool', help: 'print JSON' } as const
  const load = () => import('./cli/mimei.ts')
  return [
    {
      name: 'mimei create',
      summary: 'Create a MiMei (or get the existing one with the same app, ext and mark); prints its id.',
      flags: [
        ...base,
        { name: 'app', type: 'string', value: 'APP', help: 'app it belongs to' },
        { name: 'ext', type: 'string', value: 'EXT', help: 'kind of data within the app' },
        { name: 'mark', type: 'string', value: 'MARK', help: 'tells apart MiMei of the same kind' },
        { name: 'auto', type: 'bool', help: 'a new MiMei every time ({{auto}} mark)' },
        { name: 'type', type: 'string', value: 'TYPE', choices: ['db', 'file'], help: 'db (default) or file' },
        { name: 'public', type: 'bool', help: 'everyone may read it' },
      ],
      run: async (p) => (await load()).mimeiCreate(p),
    },
    { name: 'mimei ls', summary: 'List MiMei on the node.', flags: [...base, { name: 'app', type: 'string', value: 'APP', help: 'only this app' }, json], run: async (p) => (await load()).mimeiLs(p) },
    { name: 'mimei info', summary: 'Show a MiMei: author, app, type, rights, versions.', args: 'MID', maxArgs: 1, flags: base, run: async (p) => (await load()).mimeiInfo(p) },
    { name: 'mimei versions', summary: 'List the numbered versions of a MiMei.', args: 'MID', maxArgs: 1, flags: [...base, json], run: async (p) => (await load()).mimeiVersions(p) },
    {
      name: 'mimei backup',
      summary: 'Freeze cur into a new numbered version; prints its number.',
      args: 'MID',
      maxArgs: 1,
      flags: [...base, { name: 'memo', type: 'string', value: 'TEXT', help: 'a note kept with the version' }],
      run: async (p) => (await load()).mimeiBackup(p),
    },
    { name: 'mimei release', summary: 'Point release at a version.', args: 'MID VER', maxArgs: 2, flags: base, run: async (p) => (await load()).mimeiRelease(p) },
    { name: 'mimei restore', summary: 'Replace cur with a copy of a version.', args: 'MID VER', maxArgs: 2, flags: base, run: async (p) => (await load()).mimeiRestore(p) },
    { name: 'mimei cat', summary: 'Print a file of a file MiMei.', args: 'MID[:VER] PATH', maxArgs: 2, flags: base, run: async (p) => (await load()).mimeiCat(p) },
    {
      name: 'mimei get',
      summary: 'Database: print the value of KEY as JSON. File tree: download PATH.',
      args: 'MID[:VER] KEY|PATH',
      maxArgs: 2,
      flags: [...base, { name: 'out', type: 'string', value: 'FILE', help: 'write the file here instead of stdout' }],
      run: async (p) => (await load()).mimeiGet(p),
    },
    { name: 'mimei publish', summary: 'Announce the last version to the network (signed by the author key here).', args: 'MID', maxArgs: 1, flags: base, run: async (p) => (await load()).mimeiPublish(p) },
    {
      name: 'mimei provide',
      summary: 'Replicate a MiMei here and follow its new versions (--stop to end it).',
      args: 'MID',
      maxArgs: 1,
      flags: [...base, { name: 'stop', type: 'bool', help: 'stop providing' }],
      run: async (p) => (await load()).mimeiProvide(p),
    },
    {
      name: 'mimei findprovs',
      summary: 'List the nodes that serve a MiMei.',
      args: 'MID',
      maxArgs: 1,
      flags: [...base, { name: 'ver', type: 'int', min: 1, value: 'N', help: 'only providers of this version' }, json],
      run: async (p) => (await load()).mimeiFindProvs(p),
    },
    {
      name: 'mimei sync',
      summary: 'Pull a version (default the newest) from the network, showing progress.',
      args: 'MID[:VER]',
      maxArgs: 1,
      flags: [...base, { name: 'depth', type: 'int', min: 0, max: 8, value: 'N', help: 'references to follow (default 1)' }],
      run: async (p) => (await load()).mimeiSync(p),
    },
    {
      name: 'mimei put',
      summary: 'Database: set KEY to a JSON value. File tree: upload a local FILE (or - for stdin) to PATH.',
      args: 'MID KEY JSON | MID PATH FILE|-',
      maxArgs: 3,
      flags: base,
      run: async (p) => (await load()).mimeiPut(p),
    },
  ]
}

/** `leither app …`: pack packages here; install, publish, list and uninstall on a running node. */
function appCommands(): Command[] {
  const base = [DATA_FLAG, NODE_FLAG]
  const load = () => import('./cli/app.ts')
  return [
    {
      name: 'app pack',
      summary: 'Pack an app folder (with manifest.json) into a package signed with your user key.',
      args: 'DIR',
      maxArgs: 1,
      details: [
        'manifest.json: name, version (semver), description, icon, entry (default index.html),',
        'permissions [{name, reason}], locales, backend. Links, special files and more than 2,000',
        'files, 16 MiB per file or 64 MiB in all are refused. No node needed: the key comes from the data dir.',
      ].join('\n'),
      flags: [
        DATA_FLAG,
        { name: 'out', short: 'o', type: 'string', value: 'FILE', help: 'where to write the package (default NAME-VERSION.lapp)' },
        { name: 'key', type: 'string', value: 'ID|NAME', help: 'user key to sign with (default the owner key)' },
      ],
      run: async (p) => (await load()).appPack(p),
    },
    {
      name: 'app install',
      summary: 'Install (or update) an app from a package file or by app id from the network.',
      args: 'FILE|APPID',
      maxArgs: 1,
      details: 'Prints the permissions the app asks for; nothing is granted without --yes. Prints the app\'s address when done.',
      flags: [...base, { name: 'yes', type: 'bool', help: 'grant the permissions the app asks for' }],
      run: async (p) => (await load()).appInstall(p),
    },
    { name: 'app publish', summary: 'Announce an installed app to the network (signed by its author key here).', args: 'APPID', maxArgs: 1, flags: base, run: async (p) => (await load()).appPublish(p) },
    { name: 'app list', summary: 'List the apps installed on the node.', flags: [...base, { name: 'json', type: 'bool', help: 'print JSON' }], run: async (p) => (await load()).appList(p) },
    {
      name: 'app uninstall',
      summary: 'Remove an app and, unless --keep-data, the data it kept on the node.',
      args: 'APPID',
      maxArgs: 1,
      flags: [...base, { name: 'keep-data', type: 'bool', help: 'keep the app\'s data for a later install' }],
      run: async (p) => (await load()).appUninstall(p),
    },
  ]
}

/** `leither user …`: the owner manages who uses a running node. */
function userCommands(): Command[] {
  const load = () => import('./cli/user.ts')
  return [
    {
      name: 'user revoke',
      summary: "End a user's sessions and refuse their passports issued before a time (default now).",
      args: 'USER',
      maxArgs: 1,
      details: [
        'For a lost key or a leaked passport. Kept across restarts; the user logs in again with a',
        'passport signed later. TIME is unix seconds or an ISO date, e.g. 2024-01-02T03:04:05Z.',
      ].join('\n'),
      flags: [DATA_FLAG, NODE_FLAG, { name: 'before', type: 'string', value: 'TIME', help: 'refuse passports issued before this time (default now)' }],
      run: async (p) => (await load()).userRevoke(p),
    },
    {
      name: 'user admit',
      summary: 'Let a user store data on this node, with an optional quota.',
      args: 'USER',
      maxArgs: 1,
      details: [
        'Unless leither.json says "storageOpen": true, only the owner and admitted users store data',
        'here; guests never do. Admitting again with --quota changes the quota.',
      ].join('\n'),
      flags: [DATA_FLAG, NODE_FLAG, { name: 'quota', type: 'string', value: 'SIZE', help: 'their quota: bytes, or with a unit (500MB, 2GiB); 0 = no limit' }],
      run: async (p) => (await load()).userAdmit(p),
    },
    {
      name: 'user remove',
      summary: 'Take away the right to store data here (what the user stored stays).',
      args: 'USER',
      maxArgs: 1,
      flags: [DATA_FLAG, NODE_FLAG],
      run: async (p) => (await load()).userRemove(p),
    },
    {
      name: 'user list',
      summary: 'Users who may store data here, and what each one stores.',
      maxArgs: 0,
      flags: [DATA_FLAG, NODE_FLAG, { name: 'json', type: 'bool', help: 'print JSON' }],
      run: async (p) => (await load()).userList(p),
    },
  ]
}

/** `leither coin …`: the owner's account of the coin (Nuo). */
function coinCommands(): Command[] {
  const load = () => import('./cli/coin.ts')
  return [
    {
      name: 'coin balance',
      summary: "Print the balance of the owner's account (or of ACCOUNT) in Nuo.",
      args: '[ACCOUNT]',
      maxArgs: 1,
      details: '1 Nuo = 1000 毫 = 1 MB of traffic credit. Pending: sent to the account, final, not yet received.',
      flags: [DATA_FLAG, NODE_FLAG, { name: 'json', type: 'bool', help: 'print JSON (amounts in 毫)' }],
      run: async (p) => (await load()).coinBalance(p),
    },
    {
      name: 'coin send',
      summary: "Pay ACCOUNT from the owner's account; returns once the transfer is final.",
      args: 'ACCOUNT AMOUNT [MEMO]',
      maxArgs: 64,
      details: 'AMOUNT in Nuo with up to three decimals, e.g. 1.5 (= 1500 毫). Fails on insufficient funds or when no quorum of notaries answers.',
      flags: [DATA_FLAG, NODE_FLAG],
      run: async (p) => (await load()).coinSend(p),
    },
    {
      name: 'coin history',
      summary: "The blocks of the owner's account (or of ACCOUNT), newest first.",
      args: '[ACCOUNT]',
      maxArgs: 1,
      flags: [DATA_FLAG, NODE_FLAG, { name: 'count', type: 'int', min: 1, value: 'N', help: 'blocks to show (default 20)' }, { name: 'json', type: 'bool', help: 'print JSON (amounts in 毫)' }],
      run: async (p) => (await load()).coinHistory(p),
    },
    {
      name: 'coin traffic',
      summary: 'Traffic meters per peer node: bytes served and received, debts and payments, who is cut off.',
      args: '[PEER]',
      maxArgs: 1,
      details:
        'Debt: what a peer owes this node past its free allowance (trafficPrice 毫 per KB; relayed bytes at trafficRelayPrice). It is asked to settle at trafficPayThreshold and not served past 1.25 times it until its node pays.',
      flags: [DATA_FLAG, NODE_FLAG, { name: 'json', type: 'bool', help: 'print JSON (amounts in 毫)' }],
      run: async (p) => (await import('./cli/coin-traffic.ts')).coinTraffic(p),
    },
  ]
}

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
