// App sessions (apps issue, on the hardening issue's permission layer): a page gets a session
// through a one-time code, bound to its app's origin and to what the user granted the app.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { appId, appOrigin } from '../../runtime/apps/ids.ts'
import { generateKeyPair } from '../../runtime/identity/index.ts'
import { bootTest, callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'

let node: TestKernel
let owner: string
const A = appId(generateKeyPair().id, 'notes')
const B = appId(generateKeyPair().id, 'wallet')
const from = (origin: string | undefined, name: string, ...args: unknown[]) =>
  node.dispatcher.call(name, args, { transport: 'http', ...(origin ? { origin } : {}) })
const originOf = (app: string) => appOrigin(app, node.http.port)
const nodeOrigin = () => `http://localhost:${node.http.port}`

/** A session for `app`'s pages, the way the launcher hands one over. */
async function appSession(app: string, sid = owner): Promise<string> {
  const { code, url } = (await callLocal(node, 'SessionCode', sid, app)) as { code: string; url: string }
  expect(url).toBe(`${originOf(app)}/?code=${code}`)
  return ((await from(originOf(app), 'CodeLogin', code)) as { sid: string }).sid
}

beforeAll(async () => {
  node = await bootTest()
  owner = ((await callLocal(node, 'Login', loginPassport(node))) as { sid: string }).sid
})
afterAll(() => node.stop())

describe('one-time codes', () => {
  test('a code is good once, only from its own page', async () => {
    const { code } = (await callLocal(node, 'SessionCode', owner, A)) as { code: string }
    expect(await failure(from(originOf(B), 'CodeLogin', code))).toBe(`PermissionDenied: this code is for the pages of app ${A}`)
    // The failed attempt used it up.
    expect(await failure(from(originOf(A), 'CodeLogin', code))).toStartWith('NotFound: unknown, used or expired sign-in code')
    const launcher = (await callLocal(node, 'SessionCode', owner)) as { code: string; url: string }
    expect(launcher.url).toBe(`http://localhost:${node.http.port}/?code=${launcher.code}`)
    expect(await from(nodeOrigin(), 'CodeLogin', launcher.code)).toMatchObject({ owner: true, app: '' })
  })

  test('an app session cannot mint codes or grant itself anything', async () => {
    const sid = await appSession(A)
    expect(await failure(from(originOf(A), 'SessionCode', sid, A))).toStartWith('PermissionDenied: SessionCode is not open to apps')
    expect(await failure(from(originOf(A), 'AppGrant', sid, A, ['msg.send']))).toStartWith('PermissionDenied: AppGrant is not open to apps')
  })
})

describe('sessions are bound to their origin', () => {
  test("an app's session works only from its app's pages", async () => {
    const sid = await appSession(A)
    expect(await from(originOf(A), 'WhoAmI', sid)).toMatchObject({ userid: node.config.owner })
    expect(await failure(from(originOf(B), 'WhoAmI', sid))).toBe(`PermissionDenied: WhoAmI: this session belongs to app ${A} and works only from its pages`)
    expect(await failure(from(nodeOrigin(), 'WhoAmI', sid))).toStartWith('PermissionDenied')
  })

  test("a page of an app cannot use the user's own session", async () => {
    expect(await failure(from(originOf(A), 'WhoAmI', owner))).toBe(`PermissionDenied: WhoAmI: a page of app ${A} cannot use this session; the app gets its own from the launcher`)
    expect(await from(nodeOrigin(), 'WhoAmI', owner)).toMatchObject({ kind: 'owner' })
  })

  test("even the owner's app session never reaches owner-only calls", async () => {
    const sid = await appSession(A)
    expect(await failure(from(originOf(A), 'MMGc', sid))).toStartWith('PermissionDenied: MMGc is not open to apps')
    expect(await failure(from(originOf(A), 'UserAdmit', sid, generateKeyPair().id))).toStartWith('PermissionDenied')
  })
})

describe('grants', () => {
  test('a call outside the grants is refused naming the capability; granted it works; revoked, the next call is refused', async () => {
    const sid = await appSession(A)
    expect(await failure(from(originOf(A), 'Sign', sid, 'x'))).toBe(`PermissionDenied: app ${A} lacks user.sign; grant it in the launcher (or AppGrant(sid, "${A}", ["user.sign"]))`)
    expect(await callLocal(node, 'AppGrant', owner, A, ['user.sign'])).toMatchObject([{ capability: 'user.sign' }])
    expect(await from(originOf(A), 'Sign', sid, 'x')).toBeInstanceOf(Uint8Array)
    expect(await callLocal(node, 'AppRevoke', owner, A, 'user.sign')).toBe(1)
    expect(await failure(from(originOf(A), 'Sign', sid, 'x'))).toContain('lacks user.sign')
    expect(await failure(callLocal(node, 'AppGrant', owner, A, ['root']))).toStartWith('InvalidParams: not app capabilities: "root"')
  })

  test("grants are the user's: another user's grant does not open the call", async () => {
    const bob = ((await callLocal(node, 'Login', loginPassport(node, generateKeyPair()))) as { sid: string }).sid
    await callLocal(node, 'AppGrant', owner, B, ['user.sign'])
    const bobs = await appSession(B, bob)
    expect(await failure(from(originOf(B), 'Sign', bobs, 'x'))).toContain('lacks user.sign')
    expect(await callLocal(node, 'AppGrants', owner)).toMatchObject({ [B]: [{ capability: 'user.sign' }] })
  })
})

describe("apps keep to their own data", () => {
  test("app A's session cannot read app B's MiMei, nor open B's data areas", async () => {
    await callLocal(node, 'AppGrant', owner, A, ['mimei'])
    await callLocal(node, 'AppGrant', owner, B, ['mimei'])
    const a = await appSession(A)
    const b = await appSession(B)
    const secret = (await from(originOf(B), 'MMCreate', b, B, 'db', 'secret', 2)) as string
    const hb = (await from(originOf(B), 'MMOpen', b, secret)) as string
    await from(originOf(B), 'Set', hb, 'k', 'only for B')
    expect(await failure(from(originOf(A), 'MMOpen', a, secret))).toStartWith(`PermissionDenied: ${node.config.owner} lacks the read right on MiMei ${secret}`)
    expect(await failure(from(originOf(A), 'MMCreate', a, B, 'db', 'x', 2))).toBe(`PermissionDenied: an app creates MiMei of its own only: pass appid "${A}"`)
    expect(await failure(from(originOf(A), 'MMOpenAppData', a, B, 'user'))).toBe(`PermissionDenied: an app opens its own data areas only: pass appid "${A}"`)
    // B's handle is B's: A's page cannot use it either.
    expect(await failure(from(originOf(A), 'Get', hb, 'k'))).toStartWith(`PermissionDenied: Get: this session belongs to app ${B}`)
    // The user's own session still reads everything of theirs.
    const own = (await from(nodeOrigin(), 'MMOpen', owner, secret)) as string
    expect(await from(nodeOrigin(), 'Get', own, 'k')).toBe('only for B')
  })
})
