// A CLI command's connection to a node: its URL, and a session as the node owner when needed.
import { loadConfig, resolveDataDir } from '../config/index.ts'
import { findUserKey, signPassport } from '../identity/index.ts'
import { callRemote, RemoteCallError } from '../rpc/client.ts'
import { UsageError, type Parsed } from './args.ts'

export interface NodeSession {
  readonly node: string
  /** "" until login(); then the owner's session id. */
  sid: string
  call(method: string, args: unknown[]): Promise<unknown>
  /** Logs in as the node owner with a short passport signed by the owner key in the data dir. */
  login(): Promise<string>
  close(): Promise<void>
}

export function connect(p: Parsed): NodeSession {
  const dataDir = resolveDataDir(p.flags.data as string | undefined)
  const { config } = loadConfig(dataDir)
  const node = (p.flags.node as string | undefined) ?? `http://127.0.0.1:${config.port}`
  const session: NodeSession = {
    node,
    sid: '',
    call: (method, args) => callRemote(node, method, args),
    async login() {
      const owner = findUserKey(dataDir, config.owner, (m) => console.error(`warning: ${m}`))
      const nodeid = String(await callRemote(node, 'GetVar', ['', 'nodeid']))
      const ppt = signPassport(owner, { audience: nodeid, data: { CertFor: 'Self' }, ttl: 300 })
      session.sid = ((await callRemote(node, 'Login', [ppt])) as { sid: string }).sid
      return session.sid
    },
    async close() {
      if (session.sid) await callRemote(node, 'Logout', [session.sid]).catch(() => {})
      session.sid = ''
    },
  }
  return session
}

/**
 * Runs `body` with an owner session of the node and closes it after: usage errors exit 2, the
 * node's errors (and an unreachable node) exit 1 with their text.
 */
export async function withOwnerSession(p: Parsed, body: (s: NodeSession) => Promise<number>): Promise<number> {
  const session = connect(p)
  try {
    await session.login()
    return await body(session)
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(err.message)
      return 2
    }
    console.error(err instanceof RemoteCallError ? err.message : `leither: ${(err as Error).message}`)
    return 1
  } finally {
    await session.close()
  }
}
