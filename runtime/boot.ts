// The one composition root: config → identity → store → sessions → mimei → net → syscalls →
// rpc/http, started in order, stopped in reverse.
import { loadConfig, type Config } from './config/index.ts'
import { http, type HttpServer } from './http/index.ts'
import { identity } from './identity/index.ts'
import type { BaseComponents, Subsystem } from './kernel.ts'
import { lockDataDir } from './lock.ts'
import { createLogger } from './log/index.ts'
import { store } from './store/index.ts'
import { publicVars } from './vars.ts'
import { join } from 'node:path'
import { sessions } from './sessions/index.ts'
import { issueSystemGrant, permissions } from './permissions/index.ts'
import { createDispatcher, type Dispatcher } from '../syscalls/dispatch.ts'
import type { Services } from '../syscalls/services.ts'
import { createRpcHandler, type RpcHandler } from './rpc/protocol.ts'
import { SYSCALL_TABLES } from '../syscalls/index.ts'
import { mimei } from './mimei/index.ts'
import { net, type Net } from './net/index.ts'
import { replication, type Replication } from './net/replication.ts'
import { messages } from './msg/index.ts'
import { apps } from './apps/index.ts'
import { installDefaultApps } from './apps/defaults.ts'
import { monitor } from './monitor/index.ts'
import { ledger } from './ledger/index.ts'
import { traffic } from './ledger/traffic.ts'

export interface BootOptions {
  dataDir: string
  /** Values from command-line flags; they win over leither.json and the environment. */
  overrides?: Partial<Config>
  env?: Record<string, string | undefined>
  /** Copy log lines to stderr (default true). */
  logToStderr?: boolean
}

/** The booted node: the services its syscalls get (net and replication undefined on an offline node), and what serves them. */
export interface Kernel extends Omit<Services, 'net' | 'replication' | 'publicVars'> {
  readonly net: Net | undefined
  readonly replication: Replication | undefined
  readonly dispatcher: Dispatcher
  /** The Hprose request handler behind every transport. */
  readonly rpc: RpcHandler
  readonly http: HttpServer
  /** Base URL a local client can use (a wildcard bind address becomes loopback). */
  readonly url: string
  /** Stops every subsystem in reverse order; safe to call twice. */
  stop(): Promise<void>
}

function localUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host
  return `http://${h}:${port}`
}

export async function boot(opts: BootOptions): Promise<Kernel> {
  const { dataDir } = opts
  const loaded = loadConfig(dataDir, opts.env)
  const config: Config = { ...loaded.config, ...opts.overrides }
  const lock = lockDataDir(dataDir)
  const log = createLogger({ level: config.logLevel, dir: join(dataDir, 'logs'), stderr: opts.logToStderr ?? true })
  if (loaded.created) log.info('wrote default config', { path: join(dataDir, 'leither.json') })
  if (loaded.unknownKeys.length) log.warn('leither.json has keys this version ignores', { keys: loaded.unknownKeys })

  const base: BaseComponents = { dataDir, config, log }
  const ident = identity()(base)
  const db = store()(base)
  const sess = sessions()({ ...base, identity: ident, store: db })
  const perms = permissions()({ sessions: sess, log, db: () => db.db })
  // The node's own grant: issued here only, handed to the subsystems that work for the node.
  const system = issueSystemGrant()
  const mm = mimei()({ ...base, store: db })
  perms.registerHandles('mimei', (id, access) => mm.checkHandle(id, access))
  perms.registerHandles('file', (id, access) => mm.files.checkHandle(id, access))
  // A session that ends takes its handles with it (logout, revocation, expiry found on use).
  sess.onEnded((ended) => perms.sessionsEnded(ended))
  perms.onSessionEnded((ended) => mm.closeHandlesOf(ended))
  const network = config.p2p ? net()({ ...base, identity: ident }) : undefined
  const repl = network ? replication()({ ...base, identity: ident, mimei: mm, net: network, system }) : undefined
  const msgs = messages()({ ...base, identity: ident, store: db, net: network, storage: mm.storage })
  const installed = apps()({ ...base, mimei: mm, replication: repl, system })
  // An uninstalled app keeps nothing: every user's grants to it and every session handed to it end.
  installed.onUninstall((appId) => {
    perms.appGrants.dropApp(appId)
    sess.revokeApp(appId)
  })
  const mon = monitor()({ ...base, store: db })
  const coin = ledger()({ ...base, identity: ident, db: () => db.db, net: network })
  const credits = traffic()({ ...base, identity: ident, db: () => db.db, ledger: coin, net: network })
  const dispatcher = createDispatcher(SYSCALL_TABLES, {
    ...base,
    identity: ident,
    store: db,
    sessions: sess,
    permissions: perms,
    mimei: mm,
    replication: repl,
    net: network,
    messages: msgs,
    apps: installed,
    monitor: mon,
    ledger: coin,
    publicVars: () => vars,
  })
  const rpc = createRpcHandler(dispatcher, log.child('rpc'))
  const server = http()({ ...base, vars: () => vars, rpc, mimei: mm, permissions: perms, apps: installed, monitor: mon })
  const vars = publicVars({ nodeId: () => ident.nodeId, peerId: () => ident.peerId, port: () => server.port, nodeAddrs: () => network?.addrs() ?? [] })

  const order: Subsystem[] = [ident, db, sess, mm, ...(network ? [network] : []), ...(repl ? [repl] : []), msgs, installed, mon, coin, credits, server]
  const started: Subsystem[] = []

  const stopAll = async () => {
    for (const s of started.reverse()) {
      try {
        await s.stop()
      } catch (err) {
        log.error(`stopping ${s.name} failed`, { error: (err as Error).message })
      }
    }
    started.length = 0
  }

  try {
    for (const s of order) {
      await s.start()
      started.push(s)
    }
  } catch (err) {
    await stopAll()
    log.close()
    lock.release()
    throw err
  }
  await installDefaultApps({ apps: installed, system, dataDir, owner: config.owner, nodeKey: ident.nodeKey, log })

  let stopping: Promise<void> | undefined
  return {
    dataDir,
    config,
    log,
    identity: ident,
    store: db,
    sessions: sess,
    permissions: perms,
    mimei: mm,
    net: network,
    replication: repl,
    messages: msgs,
    apps: installed,
    monitor: mon,
    ledger: coin,
    dispatcher,
    rpc,
    http: server,
    get url() {
      return localUrl(server.hostname, server.port)
    },
    stop() {
      stopping ??= (async () => {
        log.info('stopping')
        await stopAll()
        log.info('stopped')
        log.close()
        lock.release()
      })()
      return stopping
    },
  }
}
