// Weibo engine tests: users on real nodes driving apps/weibo/store.js through the browser SDK
// (/lib/leither.js) over HTTP, with the app's origin as a page on it would send it.
import { LeitherClient } from '../../runtime/http/static/leither.js'
import { appOrigin } from '../../runtime/apps/ids.ts'
import { createUserKey, generateKeyPair, signPassport, type KeyPair } from '../../runtime/identity/index.ts'
import { callLocal, type TestKernel } from '../helpers/kernel.ts'
import { ownerSid } from './helpers.ts'
// @ts-ignore: the app's own module, plain JavaScript
import { Weibo } from '../../apps/weibo/store.js'

/** The SDK as a page on the app's origin uses it: every request carries that Origin. */
export class AppClient extends LeitherClient {
  constructor(
    url: string,
    readonly origin: string,
  ) {
    super(url, { transport: 'http' })
  }
  // Same as the SDK's POST, with the page's Origin header.
  async post(body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const r = await fetch(`${this.url}/webapi/`, { method: 'POST', body: body as Uint8Array<ArrayBuffer>, headers: { Origin: this.origin }, signal: AbortSignal.any([(this as any).posts.signal, AbortSignal.timeout(timeoutMs)]) })
    if (!r.ok) throw new Error(`HTTP ${r.status}`)
    return new Uint8Array(await r.arrayBuffer())
  }
}

export async function weiboId(node: TestKernel): Promise<string> {
  const infos = (await callLocal(node, 'GetVar', await ownerSid(node), 'appinfos')) as { id: string; name: string }[]
  const w = infos.find((a) => a.name === 'weibo')
  if (!w) throw new Error('Weibo is not installed')
  return w.id
}

export const ALL = ['mimei', 'net', 'msg', 'msg.send']

export interface User {
  key: KeyPair
  uid: string
  sid: string
  node: TestKernel
  client: AppClient
  wb: any
}

let users = 0

/** A new user whose key is on `node` (as a user's key is on her node; `keyOnNode` false: a passport from elsewhere), with Weibo's `grants`, signed in to Weibo's origin; the store opened. `key`: a new session of that user instead. */
export async function user(node: TestKernel, grants = ALL, open = true, keyOnNode = true, existing?: KeyPair): Promise<User> {
  const key = existing ?? (keyOnNode ? createUserKey(node.dataDir, `u${++users}`) : generateKeyPair())
  const ppt = signPassport(key, { audience: node.identity.nodeId, data: { CertFor: 'Self' }, ttl: 3600 })
  const sid = ((await callLocal(node, 'Login', ppt)) as { sid: string }).sid
  const app = await weiboId(node)
  if (grants.length) await callLocal(node, 'AppGrant', sid, app, grants)
  const { code } = (await callLocal(node, 'SessionCode', sid, app)) as { code: string }
  const origin = appOrigin(app, node.http.port)
  const client = new AppClient(`http://127.0.0.1:${node.http.port}`, origin)
  const r = (await client.call('CodeLogin', [code])) as { sid: string }
  client.sid = r.sid
  const wb = new Weibo(client, app)
  if (open) await wb.open()
  return { key, uid: key.id, sid, node, client, wb }
}
