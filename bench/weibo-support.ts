// What the Weibo benches share: a user's Weibo store driven from Bun through the same browser
// client the page uses (/lib/leither.js over the node's WebSocket, session from a one-time code,
// the app's permissions granted), percentiles, and the load average for the results.
import { loadavg } from 'node:os'
// @ts-ignore: the generated browser client and the app's store are plain ES modules
import { LeitherClient } from '../runtime/http/static/leither.js'
// WEIBO_STORE=<path to a store.js>: another version of the app's store (to compare two on one tree).
// @ts-ignore
const { Weibo } = await import(process.env.WEIBO_STORE ?? '../apps/weibo/store.js')
import { createUserKey, signPassport, type KeyPair } from '../runtime/identity/index.ts'
import type { TestKernel } from '../test/helpers/kernel.ts'
import { callLocal } from '../test/helpers/kernel.ts'
import { weiboInfo } from '../test/e2e/weibo-fixture.ts'

export interface BenchUser {
  key: KeyPair
  uid: string
  sid: string
  appId: string
  node: TestKernel
  /** The store as the page would hold it, and its client (undefined until `store()` is called). */
  wb?: any
  client?: any
}

/** A user whose key is on `node` (as a user's key is on her node), logged in, with every Weibo permission granted. */
let made = 0
export async function benchUser(node: TestKernel): Promise<BenchUser> {
  const key = createUserKey(node.dataDir, `bench${++made}`)
  const ppt = signPassport(key, { audience: node.identity.nodeId, data: { CertFor: 'Self' }, ttl: 7200 })
  const sid = ((await callLocal(node, 'Login', ppt)) as { sid: string }).sid
  const info = await weiboInfo(node)
  await callLocal(node, 'AppGrant', sid, info.id, info.permissions.map((p) => p.name))
  return { key, uid: key.id, sid, appId: info.id, node }
}

/** The user's Weibo store in Bun: a session of the app from a one-time code, opened like the page does. */
export async function store(u: BenchUser): Promise<any> {
  const { url } = (await callLocal(u.node, 'SessionCode', u.sid, u.appId)) as { url: string }
  const code = new URL(url).searchParams.get('code')
  // 'auto', as the page: the WebSocket, and POST while it cannot be opened (a loaded machine with many nodes).
  const client = new LeitherClient(u.node.url, { transport: 'auto' })
  client.sid = ((await client.call('CodeLogin', [code])) as { sid: string }).sid
  u.client = client
  u.wb = new Weibo(client, u.appId)
  await u.wb.open()
  return u.wb
}

/** Closes the user's store and its client (an open WebSocket would hold its node's stop). */
export function closeStore(u: BenchUser): void {
  u.wb?.close()
  u.client?.close()
}

/** Runs `fn` over `items`, `n` at a time. */
export async function pooled<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i])
    }
  }))
  return out
}

export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}

export const load = () => loadavg()[0].toFixed(2)

/** The commit the bench ran on (with "+changes" when the tree differs from it); BENCH_COMMIT when run from an export of a commit. */
export function commit(): string {
  if (process.env.BENCH_COMMIT) return process.env.BENCH_COMMIT
  const head = Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD']).stdout.toString().trim()
  const dirty = Bun.spawnSync(['git', 'status', '--porcelain', '--', 'apps/weibo', 'runtime', 'syscalls']).stdout.toString().trim()
  return dirty ? `${head}+changes` : head
}

/** Resolves once `check()` is truthy, checking every `everyMs`; rejects after `timeoutMs` naming `what`. */
export async function until<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 120_000, everyMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(everyMs)
  }
}
