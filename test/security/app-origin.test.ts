// Apps are served on origins of their own (http://<label>.localhost:<port>/) with a strict CSP,
// never on the node's; /entry?aid= leads there; a page there gets its session by a one-time code.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { appHost } from '../../runtime/apps/ids.ts'
import { generateKeyPair } from '../../runtime/identity/index.ts'
import { bootTest, callLocal, failure, type TestKernel } from '../helpers/kernel.ts'
import { appFiles, ownerSid, signedTar, upload } from '../apps/helpers.ts'

let node: TestKernel
let owner: string
let app: string
const author = generateKeyPair()

/** A request to the node as a browser on `host` would send it (loopback underneath). */
const get = (host: string, path: string, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${node.http.port}${path}`, { headers: { host: `${host}:${node.http.port}`, ...headers }, redirect: 'manual' })

beforeAll(async () => {
  node = await bootTest()
  owner = await ownerSid(node)
  const info = await upload(node, owner, await signedTar(author, appFiles({ name: 'hello' })))
  app = info.id as string
})
afterAll(() => node.stop())

describe('app origins', () => {
  test("an app's files are served on its own origin, with a CSP that keeps it there", async () => {
    const host = `${appHost(app)}.localhost`
    const r = await get(host, '/')
    expect(r.status).toBe(200)
    expect(await r.text()).toContain('<title>hello</title>')
    const csp = r.headers.get('content-security-policy')!
    expect(csp).toContain("default-src 'self'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain(`connect-src 'self' ws://${host}:${node.http.port}`)
    expect(csp).toContain("frame-ancestors 'none'")
    expect(r.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await (await get(host, '/js/app.js')).text()).toBe('console.log("hello")')
    // The node's client library and RPC are reachable from the app's origin; the node's pages are not.
    expect((await get(host, '/lib/leither.js')).status).toBe(200)
    expect((await get(host, '/mm/anything')).status).toBe(404)
    expect((await get(host, '/no-such-file')).status).toBe(404)
  })

  test('an origin of an app that is not installed serves nothing', async () => {
    const other = `${appHost(generateKeyPair().id.slice(0, 27))}.localhost`
    const r = await get(other, '/')
    expect(r.status).toBe(404)
    expect(await r.text()).toContain('is installed on this node')
  })

  test('/entry?aid= sends the browser to the app origin, keeping the other parameters', async () => {
    const r = await get('localhost', `/entry?aid=${app}&mid=abc`)
    expect(r.status).toBe(302)
    expect(r.headers.get('location')).toBe(`http://${appHost(app)}.localhost:${node.http.port}/?mid=abc`)
    expect((await get('localhost', '/entry?aid=nope')).status).toBe(400)
  })

  test("a page on the app origin trades a code for the app's session over /webapi/; the node's origin cannot take it", async () => {
    const { code } = (await callLocal(node, 'SessionCode', owner, app)) as { code: string }
    const appOriginUrl = `http://${appHost(app)}.localhost:${node.http.port}`
    const { Writer, Reader, Tag } = await import('../../runtime/rpc/codec/index.ts')
    const body = new Writer().writeTag(Tag.Call).write('CodeLogin').reset().write([code]).writeTag(Tag.End).toBytes()
    const post = (origin: string) =>
      fetch(`http://127.0.0.1:${node.http.port}/webapi/`, { method: 'POST', body: body as Uint8Array<ArrayBuffer>, headers: { host: new URL(origin).host, origin } })
    const wrong = new Reader(new Uint8Array(await (await post(`http://localhost:${node.http.port}`)).arrayBuffer()))
    expect(String.fromCharCode(wrong.readTag())).toBe('E')
    expect(wrong.readString()).toBe(`PermissionDenied: this code is for the pages of app ${app}`)
    const { code: again } = (await callLocal(node, 'SessionCode', owner, app)) as { code: string }
    const ok = new Writer().writeTag(Tag.Call).write('CodeLogin').reset().write([again]).writeTag(Tag.End).toBytes()
    const reply = await fetch(`http://127.0.0.1:${node.http.port}/webapi/`, { method: 'POST', body: ok as Uint8Array<ArrayBuffer>, headers: { host: new URL(appOriginUrl).host, origin: appOriginUrl } })
    const r = new Reader(new Uint8Array(await reply.arrayBuffer()))
    expect(String.fromCharCode(r.readTag())).toBe('R')
    expect(r.readValue()).toMatchObject({ app, owner: true })
  })
})

describe('uninstall', () => {
  test("uninstalling an app ends its sessions, closes its handles and drops every user's grants to it", async () => {
    const info = await upload(node, owner, await signedTar(author, appFiles({ name: 'bye' })))
    const id = info.id as string
    await callLocal(node, 'AppGrant', owner, id, ['mimei'])
    const origin = `http://${appHost(id)}.localhost:${node.http.port}`
    const { code } = (await callLocal(node, 'SessionCode', owner, id)) as { code: string }
    const call = (name: string, ...args: unknown[]) => node.dispatcher.call(name, args, { transport: 'http', origin })
    const sid = ((await call('CodeLogin', code)) as { sid: string }).sid
    const h = (await call('MMOpenAppData', sid, id, 'user')) as string
    await call('Set', h, 'k', 1)
    await callLocal(node, 'UninstallApp', owner, id, true)
    expect(await callLocal(node, 'AppGrants', owner)).not.toHaveProperty(id)
    expect((await failure(call('WhoAmI', sid))).startsWith('PermissionDenied: unknown or ended session')).toBe(true)
    expect(await failure(call('Get', h, 'k'))).toStartWith('PermissionDenied: the session that opened this handle has ended')
  })
})
