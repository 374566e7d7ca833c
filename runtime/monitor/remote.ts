// Another node's stats, asked over HTTP as the user: a one-minute login passport signed with her key.
//
// The node (or the CLI) reads the other node's id from /webapi GetVar nodeid, signs a login passport
// for that id with the user's key, logs in, calls MonitorStats there and logs out. The other node
// answers only if that user may see its stats there (its owner). Plain HTTP does not prove which node
// answers: the URL must be one the user trusts, as for `leither call --node`.
import { InvalidParams, NotFound, PermissionDenied, Timeout } from '../errors.ts'
import { signPassport, type KeyPair } from '../identity/index.ts'
import { callRemote, RemoteCallError } from '../rpc/client.ts'
import { MAX_ROWS, type StatsRow } from './query.ts'

/** Largest reply read from another node (50,000 rows fit well within it). */
const MAX_REPLY_BYTES = 16 * 1024 * 1024
const TIMEOUT_MS = 15_000

/** One Hprose call; the reply is read up to MAX_REPLY_BYTES, an `E` reply thrown as the kernel error its code names. */
async function call(url: string, method: string, args: unknown[]): Promise<unknown> {
  try {
    return await callRemote(url, method, args, TIMEOUT_MS, { maxReplyBytes: MAX_REPLY_BYTES })
  } catch (err) {
    if (!(err instanceof RemoteCallError)) throw err
    const text = err.message
    switch (err.code) {
      case 'Timeout':
        throw new Timeout(`the node at ${url} did not answer ${method} within ${TIMEOUT_MS / 1000} s`)
      case 'Transport':
        if (/answered HTTP/.test(text)) throw new NotFound(`${text.slice(11, 300)} to ${method}: not a Leither node, or the URL is wrong`)
        throw new NotFound(`no node answers at ${url} (${text.slice(11, 300)}); is the URL right?`)
      case 'Protocol':
        if (/longer than/.test(text)) throw new InvalidParams(`the node at ${url} sent more than ${MAX_REPLY_BYTES} bytes of stats; ask for a shorter range`)
        throw new NotFound(`${url} did not answer ${method} in Hprose: not a Leither node`)
      case 'PermissionDenied':
      case 'InvalidSignature':
        throw new PermissionDenied(`the node at ${url} refused ${method} (${text.slice(0, 300)}); its owner must be you: copy your keys/users/<id>.key there and set "owner" to your id in its leither.json`)
      default:
        throw new InvalidParams(`the node at ${url} refused ${method}: ${text.slice(0, 300)}`)
    }
  }
}

const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v)

/** Checks a row another node sent: the fields StatsRow has, of their types. */
function checkRow(r: unknown, url: string): StatsRow {
  const o = r as Record<string, unknown>
  const ok =
    o && typeof o === 'object' && (o.kind === 'syscall' || o.kind === 'http') && typeof o.name === 'string' && o.name.length <= 1024 &&
    ['count', 'errors', 'avgMs', 'maxMs', 'p95Ms'].every((k) => isNum(o[k])) && (o.start === undefined || isNum(o.start))
  if (!ok) throw new NotFound(`the node at ${url} sent a stats row of another shape: not a Leither node of this version`)
  const row: StatsRow = { node: url, kind: o.kind as StatsRow['kind'], name: o.name as string, count: o.count as number, errors: o.errors as number, avgMs: o.avgMs as number, maxMs: o.maxMs as number, p95Ms: o.p95Ms as number }
  return o.start === undefined ? row : { ...row, start: o.start as number }
}

/** MonitorStats of the node at `url` as the holder of `key`; each row's node is `url`. */
export async function remoteStats(url: string, key: KeyPair, opts: Record<string, unknown>): Promise<StatsRow[]> {
  const nodeid = await call(url, 'GetVar', ['', 'nodeid'])
  if (typeof nodeid !== 'string' || !/^[A-Za-z0-9_-]{27}$/.test(nodeid)) throw new NotFound(`${url} did not give a node id: not a Leither node`)
  const ppt = signPassport(key, { audience: nodeid, data: { CertFor: 'Self' }, ttl: 60 })
  const login = (await call(url, 'Login', [ppt])) as { sid?: unknown }
  if (typeof login?.sid !== 'string') throw new NotFound(`${url} did not answer Login with a session`)
  try {
    const rows = await call(url, 'MonitorStats', [login.sid, opts])
    if (!Array.isArray(rows) || rows.length > MAX_ROWS) throw new NotFound(`the node at ${url} did not send a list of at most ${MAX_ROWS} stats rows`)
    return rows.map((r) => checkRow(r, url))
  } finally {
    await call(url, 'Logout', [login.sid]).catch(() => {})
  }
}
