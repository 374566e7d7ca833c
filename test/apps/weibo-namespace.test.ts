// Data namespaces (manifest "data"): who may hold one on a node, what an app's session reaches
// through it, and what AppDataFollow lets an app do.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { appId, appOrigin } from '../../runtime/apps/ids.ts'
import { mimeiId } from '../../runtime/mimei/index.ts'
import { generateKeyPair, type KeyPair } from '../../runtime/identity/index.ts'
import { bootTest, callLocal, failure, ownerKey, type TestKernel } from '../helpers/kernel.ts'
import { appFiles, ownerSid, signedTar, upload } from './helpers.ts'

let node: TestKernel
let owner: string
const alice = generateKeyPair()
const mallory = generateKeyPair()
const from = (app: string, name: string, ...args: unknown[]) => node.dispatcher.call(name, args, { transport: 'http', origin: appOrigin(app, node.http.port) })

async function install(key: KeyPair, name: string, data: string, version = '1.0.0') {
  return upload(node, owner, await signedTar(key, appFiles({ name, version, manifest: { data, permissions: [{ name: 'net', reason: 'to follow' }] } })))
}
async function appSession(app: string): Promise<string> {
  const { code } = (await callLocal(node, 'SessionCode', owner, app)) as { code: string }
  return ((await from(app, 'CodeLogin', code)) as { sid: string }).sid
}

beforeAll(async () => {
  node = await bootTest()
  owner = await ownerSid(node)
})
afterAll(() => node.stop())

test("the first app declaring a namespace holds it; its publisher's other apps share it, another publisher's is refused", async () => {
  await install(alice, 'diary', 'diary')
  await install(alice, 'diary-lite', 'diary')
  expect(await failure(install(mallory, 'diary-pro', 'diary'))).toStartWith('Conflict: data namespace "diary" belongs on this node to apps by')
  // Both of Alice's apps open the same area, named by the namespace.
  const [s1, s2] = [await appSession(appId(alice.id, 'diary')), await appSession(appId(alice.id, 'diary-lite'))]
  const h1 = (await from(appId(alice.id, 'diary'), 'MMOpenAppData', s1, appId(alice.id, 'diary'), 'user')) as string
  await from(appId(alice.id, 'diary'), 'Set', h1, 'k', 'v')
  const h2 = (await from(appId(alice.id, 'diary-lite'), 'MMOpenAppData', s2, appId(alice.id, 'diary-lite'), 'user')) as string
  expect(await from(appId(alice.id, 'diary-lite'), 'Get', h2, 'k')).toBe('v')
  const mid = mimeiId(node.config.owner, 'ns:diary', 'appdata', 'user')
  expect(await callLocal(node, 'AppDataId', owner, appId(alice.id, 'diary'), node.config.owner)).toBe(mid)
})

test("an app cannot open, follow or derive keys in another app's namespace", async () => {
  await install(mallory, 'spy', 'spy')
  const spy = appId(mallory.id, 'spy')
  const sid = await appSession(spy)
  expect(await failure(from(spy, 'MMOpenAppData', sid, appId(alice.id, 'diary'), 'user'))).toStartWith('PermissionDenied: an app opens its own data areas only')
  expect(await failure(from(spy, 'MMOpenAppData', sid, 'ns:diary', 'user'))).toStartWith('PermissionDenied')
  expect(await failure(from(spy, 'AppDataFollow', sid, appId(alice.id, 'diary'), alice.id))).toStartWith('PermissionDenied')
  await callLocal(node, 'AppGrant', owner, spy, ['net'])
  const granted = await appSession(spy)
  expect(await failure(from(spy, 'AppDataFollow', granted, appId(alice.id, 'diary'), alice.id))).toStartWith('PermissionDenied: an app follows areas of its own data only')
  // Its own namespace: allowed (this node is offline, so nothing is provided).
  expect(await from(spy, 'AppDataFollow', granted, spy, alice.id)).toMatchObject({ following: true, provided: false, mid: mimeiId(alice.id, 'ns:spy', 'appdata', 'user') })
})

test("the node owner's build may take a namespace over; uninstalling without the data frees it, keeping the data keeps it held", async () => {
  await install(mallory, 'board', 'board')
  expect(await failure(install(alice, 'board-alt', 'board'))).toStartWith('Conflict')
  // The owner's own build of an app declaring it takes it over.
  await install(ownerKey(node), 'board-own', 'board')
  expect(await failure(install(mallory, 'board-2', 'board'))).toStartWith('Conflict')
  // Uninstalled keeping its data: still held, so no other publisher reaches what was left.
  await callLocal(node, 'UninstallApp', owner, appId(ownerKey(node).id, 'board-own'), true)
  expect(await failure(install(alice, 'board-alt', 'board'))).toStartWith('Conflict')
  // Mallory's board still declares it but no longer holds it: uninstalling it frees nothing.
  await callLocal(node, 'UninstallApp', owner, appId(mallory.id, 'board'), false)
  expect(await failure(install(alice, 'board-alt', 'board'))).toStartWith('Conflict')
  await install(ownerKey(node), 'board-own', 'board', '1.0.1')
  await callLocal(node, 'UninstallApp', owner, appId(ownerKey(node).id, 'board-own'), false)
  expect(await install(alice, 'board-alt', 'board')).toMatchObject({ name: 'board-alt' })
})

test('a manifest data name is checked', async () => {
  expect(await failure(install(alice, 'bad', 'Not A Name'))).toStartWith('InvalidParams: manifest.json: "data" must be 1-63 lowercase letters')
})
