// Issue 8 defect 6: a web page must not drive the node — Host (DNS rebinding) and Origin (cross-site) checks on a real port.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { networkInterfaces } from 'node:os'
import { hproseFrame, nextEvent, parseFrame } from '../compat/frames.ts'
import { bootTest, type TestKernel } from '../helpers/kernel.ts'

const ECHO = 'Cs4"Echo"a1{s2"hi"}z'

let node: TestKernel
let port: number
beforeAll(async () => {
  node = await bootTest({ allowedHosts: ['node.example'], allowedOrigins: ['http://dev.example:5173'] })
  port = node.http.port
})
afterAll(() => node[Symbol.asyncDispose]())

const request = (path: string, headers: Record<string, string>, init: RequestInit = {}) =>
  fetch(`${node.url}${path}`, { ...init, headers, redirect: 'manual' })
const postEcho = (headers: Record<string, string>) => request('/webapi/', headers, { method: 'POST', body: ECHO })
const errorOf = async (r: Response) => ((await r.json()) as { error: string }).error

/** Opens a WebSocket with forged headers; resolves 'open' or 'refused' (closed before opening). */
async function upgrade(kind: 'ws' | 'ws3', headers: Record<string, string>): Promise<{ outcome: 'open' | 'refused'; ws: WebSocket }> {
  const ws = new WebSocket(`${node.url.replace(/^http/, 'ws')}/${kind}/`, { headers } as unknown as string[])
  ws.binaryType = 'arraybuffer'
  const first = await Promise.race([nextEvent(ws, 'open'), nextEvent(ws, 'close')])
  return { outcome: first.type === 'open' ? 'open' : 'refused', ws }
}

/** One Echo over an open socket. */
async function echoOver(ws: WebSocket): Promise<string> {
  const reply = nextEvent(ws, 'message')
  ws.send(hproseFrame(7, ECHO))
  const body = parseFrame((await reply).data).body
  const closed = nextEvent(ws, 'close')
  ws.close()
  await closed
  return body
}

describe('Host (DNS rebinding)', () => {
  const routes = ['/getvar?name=ver', '/', '/lib/leither.js', '/mm/AAAAAAAAAAAAAAAAAAAAAAAAAAA/x', '/webapi/', '/no/such/route']
  for (const host of ['evil.example', `evil.example:${0}`, 'localhost.evil.example', '127.0.0.1.evil.example', 'notlocalhost', '192.0.2.99']) {
    test(`a foreign Host "${host}" is refused on every route`, async () => {
      const h = host.replace(':0', `:${port}`)
      for (const path of routes) {
        const r = await request(path, { host: h })
        expect(r.status).toBe(403)
        expect(await errorOf(r)).toContain('allowedHosts')
      }
      const post = await postEcho({ host: h })
      expect(post.status).toBe(403)
      expect(post.headers.get('access-control-allow-origin')).toBeNull()
      for (const kind of ['ws', 'ws3'] as const) expect((await upgrade(kind, { host: h })).outcome).toBe('refused')
    })
  }

  for (const host of ['localhost', 'localhost:PORT', 'app1.localhost:PORT', '127.0.0.1:PORT', '[::1]:PORT', 'node.example', 'NODE.example:PORT']) {
    test(`Host "${host}" is served`, async () => {
      const r = await request('/getvar?name=port', { host: host.replace('PORT', String(port)) })
      expect(r.status).toBe(200)
      expect(await r.json()).toBe(port)
    })
  }
})

describe('Origin on /webapi/ and the WebSocket upgrades', () => {
  test('a foreign Origin is refused, with no CORS headers at all', async () => {
    for (const origin of ['http://evil.example', `http://evil.example:${port}`, 'null', `http://127.0.0.1:${port === 1 ? 2 : 1}`, `https://127.0.0.1:${port}`, `http://app1.localhost:${port}`]) {
      const r = await postEcho({ origin })
      expect(r.status).toBe(403)
      expect(r.headers.get('access-control-allow-origin')).toBeNull()
      expect(r.headers.get('access-control-allow-credentials')).toBeNull()
      expect(await errorOf(r)).toContain('allowedOrigins')
      const list = await request('/webapi/', { origin })
      expect(list.status).toBe(403)
      const preflight = await request('/webapi/', { origin, 'access-control-request-method': 'POST' }, { method: 'OPTIONS' })
      expect(preflight.status).toBe(403)
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull()
    }
  })

  test("the node's own origins and configured ones are answered, without Origin too", async () => {
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`, `http://node.example:${port}`, 'http://dev.example:5173']) {
      const r = await postEcho({ origin })
      expect(r.status).toBe(200)
      expect(await r.text()).toBe('Rs2"hi"z')
      expect(r.headers.get('access-control-allow-origin')).toBe(origin)
    }
    const plain = await postEcho({})
    expect(plain.status).toBe(200)
    expect(await plain.text()).toBe('Rs2"hi"z')
  })

  test('an origin registered through the policy (as apps will be) is answered until withdrawn', async () => {
    const app = `http://app1.localhost:${port}`
    expect((await postEcho({ origin: app })).status).toBe(403)
    const withdraw = node.http.origins.allowOrigin(app)
    const r = await postEcho({ origin: app, host: `app1.localhost:${port}` })
    expect(r.status).toBe(200)
    expect(r.headers.get('access-control-allow-origin')).toBe(app)
    withdraw()
    expect((await postEcho({ origin: app })).status).toBe(403)
  })

  for (const kind of ['ws', 'ws3'] as const) {
    test(`/${kind}/: a foreign Origin cannot open the socket; the node's own can`, async () => {
      for (const origin of ['http://evil.example', 'null', `http://localhost:${port + 1}`]) expect((await upgrade(kind, { origin })).outcome).toBe('refused')
      for (const origin of [`http://127.0.0.1:${port}`, 'http://dev.example:5173']) {
        const { outcome, ws } = await upgrade(kind, { origin })
        expect(outcome).toBe('open')
        expect(await echoOver(ws)).toBe('Rs2"hi"z')
      }
      const { outcome, ws } = await upgrade(kind, {})
      expect(outcome).toBe('open')
      expect(await echoOver(ws)).toBe('Rs2"hi"z')
    })
  }
})

/** A non-loopback IPv4 address of this machine, if it has one. */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address

describe("the node's own addresses", () => {
  test.skipIf(!lanAddress)('bound to one address, another address of the machine is a foreign Host', async () => {
    const r = await request('/getvar?name=port', { host: `${lanAddress}:${port}` })
    expect(r.status).toBe(403)
  })

  test.skipIf(!lanAddress)('bound to 0.0.0.0, the machine interface addresses are its own (Host and Origin)', async () => {
    await using open = await bootTest({ host: '0.0.0.0' })
    const own = `${lanAddress}:${open.http.port}`
    const r = await fetch(`http://${own}/getvar?name=port`)
    expect(r.status).toBe(200)
    const call = await fetch(`http://${own}/webapi/`, { method: 'POST', body: ECHO, headers: { origin: `http://${own}` } })
    expect(call.status).toBe(200)
    expect(await call.text()).toBe('Rs2"hi"z')
    const foreign = await fetch(`http://${own}/getvar?name=port`, { headers: { host: 'evil.example' } })
    expect(foreign.status).toBe(403)
  })
})
