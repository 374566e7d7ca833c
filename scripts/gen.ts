// `bun run gen`: writes the generated files (app index, syscall docs, browser client). `--check`
// fails on drift instead of writing.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { mkdirSync } from 'node:fs'
import { SYSCALL_FAMILIES, SYSCALL_TABLES } from '../syscalls/index.ts'
import type { ParamType, SyscallRow } from '../syscalls/row.ts'
import { ERRORS } from '../runtime/errors.ts'

const root = join(import.meta.dir, '..')

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name)
      return statSync(path).isDirectory() ? listFiles(path) : [path]
    })
}

/** The module that makes `bun build --compile` embed every file under apps/. */
export function embeddedAppsModule(): string {
  const files = listFiles(join(root, 'apps')).map((p) => relative(join(root, 'apps'), p).split('\\').join('/'))
  // Scripts, styles and images have no module types for the checker; at run time each is a path too.
  const imports = files.map((f, i) => `${/\.(html|json)$/.test(f) ? '' : '// @ts-ignore: a "file" import of a script, style or image\n'}import f${i} from '../../apps/${f}' with { type: 'file' }`)
  const entries = files.map((f, i) => `  ${JSON.stringify(f)}: f${i},`)
  return [
    '// Importing each file with type "file" makes `bun build --compile` embed it; from source the',
    '// paths point at apps/ on disk.',
    '// (Type checkers see HTML/JSON modules; at run time a "file" import is always a path string.)',
    ...imports,
    '',
    'const files: Record<string, unknown> = {',
    ...entries,
    '}',
    '',
    'export const EMBEDDED_APPS = files as Record<string, string>',
    '',
  ].join('\n')
}

const ROWS = () => SYSCALL_TABLES.flat()

function wireParams(row: SyscallRow): string[] {
  return [...(row.sid ? ['sid'] : []), ...row.params.map((p) => (p.rest ? `...${p.name}` : p.optional ? `${p.name}?` : p.name))]
}

const TS_TYPE: Record<ParamType, string> = {
  string: 'string',
  int: 'number',
  number: 'number',
  bool: 'boolean',
  bytes: 'Uint8Array',
  data: 'Uint8Array | string',
  map: 'Record<string, unknown>',
  list: 'unknown[]',
  any: 'unknown',
}

/** docs/syscalls.md: every syscall with its parameters, capability, errors and doc. */
export function syscallsDoc(): string {
  const out = [
    '# Syscalls',
    '',
    'Every syscall is an Hprose method on the node\'s port (`/ws/`, `/ws3/`, `/webapi/`); names are',
    'case-insensitive. Where `sid` is listed it is the first argument: a session id from `Login`, or',
    '`""` for a guest. Errors arrive as Hprose `E` replies whose text starts with the code.',
    '',
    'Capabilities: `public` (anyone, guests too), `session` (any logged-in user), `user.sign` (sign',
    'with the caller\'s own key, which the node must hold), `node.admin` (the node owner).',
    '',
  ]
  SYSCALL_FAMILIES.forEach(({ name, rows: table }) => {
    out.push(`## ${name}`, '', '| syscall | capability | returns |', '|---|---|---|')
    for (const row of table) out.push(`| [\`${row.name}(${wireParams(row).join(', ')})\`](#${row.name.toLowerCase()}) | ${row.capability} | ${row.returns} |`)
    out.push('')
    for (const row of table) {
      out.push(`### ${row.name}`, '', `\`${row.name}(${wireParams(row).join(', ')})\` → ${row.returns}`, '', row.doc, '')
      if (row.sid) out.push(`- \`sid\` (string): session id, or "" for a guest`)
      for (const p of row.params) out.push(`- \`${p.name}\` (${p.type}${p.optional ? ', optional' : ''}${p.rest ? ', any number' : ''}): ${p.doc}`)
      out.push('', `Capability: \`${row.capability}\`. Errors: ${row.errors.length ? row.errors.map((e) => `\`${e}\``).join(', ') : 'none'}.`, '')
    }
  })
  return out.join('\n')
}

/** docs/errors.md: every error code with its HTTP status and when it is thrown (runtime/errors.ts). */
export function errorsDoc(): string {
  return [
    '# Errors',
    '',
    'Every error the node reports starts with its code: an Hprose `E` reply\'s text is `Code: message`,',
    'the CLI prints the same text, and `/mm/` answers a caller\'s condition (status below 500) with that',
    'status and `{"error": "Code: message"}`. Codes are stable: clients match on them. The Hprose',
    'client (`runtime/rpc/client.ts`, the CLI\'s and the browser\'s `leither.js`) adds codes for',
    'failures on its side: `Transport` (the node could not be reached, or the connection broke),',
    '`Timeout` (no reply in time) and `Protocol` (the reply is not Hprose).',
    '',
    '| code | HTTP status | when |',
    '|---|---|---|',
    ...ERRORS.map((e) => `| \`${e.code}\` | ${e.status} | ${e.doc} |`),
    '',
  ].join('\n')
}

/** The TypeScript type a row's method resolves to (its returnsType; unknown without one). */
const returnsTypeOf = (row: SyscallRow) => row.returnsType ?? 'unknown'

function jsDocOf(row: SyscallRow, indent: string): string {
  const lines = [row.doc, ...row.params.map((p) => `@param {${TS_TYPE[p.type]}${p.rest ? '[]' : ''}} ${p.optional ? `[${p.name}]` : p.name} ${p.doc}`), `@returns {Promise<${returnsTypeOf(row)}>} ${row.returns}`]
  return [`${indent}/**`, ...lines.map((l) => `${indent} * ${l}`), `${indent} */`].join('\n')
}

const methodArgs = (row: SyscallRow) => row.params.map((p) => (p.rest ? `...${p.name}` : p.name))

/** /lib/leither.js: the browser client (codec included) with one method per syscall. */
export async function browserClient(): Promise<string> {
  const built = await Bun.build({ entrypoints: [join(root, 'runtime/rpc/browser/client.ts')], target: 'browser', format: 'esm' })
  if (!built.success) throw new Error(built.logs.join('\n'))
  const code = await built.outputs[0].text()
  const methods = ROWS().map((row) => {
    const args = methodArgs(row)
    const wire = [...(row.sid ? ['this.sid'] : []), ...args].join(', ')
    return `${jsDocOf(row, '')}\nLeitherClient.prototype.${row.name} = function (${args.join(', ')}) {\n  return this.call(${JSON.stringify(row.name)}, [${wire}]);\n};`
  })
  const at = code.lastIndexOf('export {')
  return [
    '// Leither browser client. Use: import { LeitherClient } from "/lib/leither.js";',
    '// const node = new LeitherClient(); await node.login(ppt); await node.WhoAmI(); node.on("message", (m) => …)',
    '// Types: leither.d.ts beside it (every syscall\'s result, the events and their payloads).',
    code.slice(0, at),
    '// Syscall methods: the sid is passed for you where the syscall takes one.',
    ...methods,
    '',
    code.slice(at),
  ].join('\n')
}

/** The shared shapes (runtime/rpc/browser/types.ts) as leither.d.ts declares them. */
function sharedTypes(): string[] {
  const text = readFileSync(join(root, 'runtime/rpc/browser/types.ts'), 'utf8')
  return text.split('\n').slice(1).join('\n').trim().split('\n')
}

/** Types of /lib/leither.js (its declaration file beside it), for editors and TypeScript apps. */
export function browserClientTypes(): string {
  const methods = ROWS().map((row) => {
    // An optional parameter before a required one (Scan's match) is a required slot that takes undefined.
    const tailOptional = (i: number) => row.params.slice(i).every((p) => p.optional || p.rest)
    const params = row.params.map((p, i) =>
      p.rest ? `...${p.name}: ${TS_TYPE[p.type]}[]` : p.optional && !tailOptional(i) ? `${p.name}: ${TS_TYPE[p.type]} | undefined` : `${p.name}${p.optional ? '?' : ''}: ${TS_TYPE[p.type]}`,
    )
    return `${jsDocOf(row, '  ')}\n  ${row.name}(${params.join(', ')}): Promise<${returnsTypeOf(row)}>`
  })
  return [
    '// Types of leither.js (served at /lib/leither.js).',
    '',
    ...sharedTypes(),
    '',
    'export interface ClientOptions {',
    "  /** 'auto' (default): the WebSocket, and POST /webapi/ while it cannot be opened. 'ws': the WebSocket only. 'http': one POST per call. */",
    "  transport?: 'ws' | 'http' | 'auto'",
    '  /** Per-call timeout in ms (default 30 s). */',
    '  timeout?: number',
    '  /** Longest wait between attempts to reopen the WebSocket, in ms (default 30 s). */',
    '  reconnectMaxMs?: number',
    '}',
    '/** An error the node answered with; `code` is its stable prefix (PermissionDenied, NotFound …). */',
    'export declare class LeitherError extends Error {',
    '  readonly code: string',
    '  constructor(text: string)',
    '}',
    '/** code "Transport": the connection failed; the call may or may not have run on the node (it is not resent). */',
    'export declare class TransportError extends LeitherError {}',
    '/** Events of LeitherClient.on. */',
    'export interface LeitherEvents {',
    '  /** A message for the user (marked read on the node). */',
    '  message: InboxMessage',
    '  /** An event of a topic the session subscribed to (Subscribe). */',
    '  pubsub: PubEvent',
    "  /** Events the node's queue for the session lost. */",
    '  dropped: DroppedEvents',
    '  /** The WebSocket opened (first time or after a reconnect). */',
    "  connect: { transport: 'ws' }",
    '  /** The WebSocket closed; the client reopens it with backoff. */',
    '  disconnect: { code: number; reason: string }',
    '  /** A PullMsg of the event loop failed (it is tried again). */',
    '  error: LeitherError',
    '}',
    'export declare class LeitherClient {',
    '  /** Session id from login() or signIn(); syscalls that take a sid get it automatically ("" = guest). */',
    '  sid: string',
    '  readonly url: string',
    "  /** How calls go now: 'ws' while the WebSocket is open (or being tried), else 'http'. */",
    "  readonly transport: 'ws' | 'http'",
    '  constructor(url?: string, options?: ClientOptions)',
    '  /** Calls any syscall by name with the exact wire arguments (no sid added). */',
    '  call(method: string, args?: unknown[]): Promise<unknown>',
    '  /** Logs in with a passport and keeps the sid for later calls. */',
    '  login(ppt: string): Promise<LoginResult>',
    "  /** Signs the page in with the launcher's one-time ?code=, or the session kept for this tab; false when there is neither. */",
    '  signIn(): Promise<boolean>',
    '  /**',
    "   * Listens to an event; returns a function that stops listening. While 'message', 'pubsub' or",
    "   * 'dropped' has a listener, the client keeps a PullMsg waiting on the node (it needs a session).",
    '   */',
    '  on<K extends keyof LeitherEvents>(type: K, listener: (value: LeitherEvents[K]) => void): () => void',
    '  off<K extends keyof LeitherEvents>(type: K, listener: (value: LeitherEvents[K]) => void): void',
    '  /** Closes the WebSocket, stops reconnecting and removes every listener; later calls open a new one. */',
    '  close(): void',
    ...methods,
    '}',
    '',
  ].join('\n')
}

/** Every file gen writes: what makes it and what it is made from (for its header line). */
const SOURCES: Record<string, { readonly make: () => string | Promise<string>; readonly from: string }> = {
  'runtime/apps/embedded.gen.ts': { make: embeddedAppsModule, from: 'apps/' },
  'docs/syscalls.md': { make: syscallsDoc, from: 'the tables in syscalls/' },
  'docs/errors.md': { make: errorsDoc, from: 'the table in runtime/errors.ts' },
  'runtime/http/static/leither.js': { make: browserClient, from: 'runtime/rpc/browser/ and the tables in syscalls/' },
  'runtime/http/static/leither.d.ts': { make: browserClientTypes, from: 'runtime/rpc/browser/types.ts and the tables in syscalls/' },
}

/** The first line of a generated file: it says so, and from what (.gitattributes marks the same files). */
export function generatedHeader(file: string): string {
  const text = `Generated by \`bun run gen\` from ${SOURCES[file].from}: do not edit.`
  return file.endsWith('.md') ? `<!-- ${text} -->` : `// ${text}`
}

/** Every generated file and its full text, header line first. */
export const GENERATED: Record<string, () => Promise<string>> = Object.fromEntries(
  Object.entries(SOURCES).map(([file, { make }]) => [file, async () => `${generatedHeader(file)}\n${await make()}`]),
)

if (import.meta.main) {
  const check = process.argv.includes('--check')
  let drift = 0
  for (const [file, make] of Object.entries(GENERATED)) {
    const path = join(root, file)
    const text = await make()
    let old = ''
    try {
      old = readFileSync(path, 'utf8')
    } catch {}
    if (old === text) continue
    if (check) {
      console.error(`${file} is out of date: run \`bun run gen\``)
      drift++
    } else {
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, text)
      console.log(`wrote ${file}`)
    }
  }
  process.exit(drift ? 1 : 0)
}
