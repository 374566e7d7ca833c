// What an app may spend of a user's Nuo: CoinTransfer from an app's session needs coin.transfer and
// comes off the limit the user set with the grant; over it nothing is sent.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { appId, appOrigin } from '../../runtime/apps/ids.ts'
import { generateKeyPair } from '../../runtime/identity/index.ts'
import { bootTest, callLocal, failure, loginPassport, ownerKey, type TestKernel } from '../helpers/kernel.ts'

let node: TestKernel
let owner: string
const SHOP = appId(generateKeyPair().id, 'shop')
const to = generateKeyPair().id
const from = (app: string, name: string, ...args: unknown[]) => node.dispatcher.call(name, args, { transport: 'http', origin: appOrigin(app, node.http.port) })

async function appSession(app: string): Promise<string> {
  const { code } = (await callLocal(node, 'SessionCode', owner, app)) as { code: string }
  return ((await from(app, 'CodeLogin', code)) as { sid: string }).sid
}
const balance = () => node.ledger.info(ownerKey(node).id).balance
const limitLeft = async () => ((await callLocal(node, 'AppGrants', owner)) as Record<string, { capability: string; limit: number | null }[]>)[SHOP]?.find((g) => g.capability === 'coin.transfer')?.limit

beforeAll(async () => {
  node = await bootTest({ coinSupply: 1_000_000 })
  owner = ((await callLocal(node, 'Login', loginPassport(node))) as { sid: string }).sid
})
afterAll(() => node.stop())

test('an app without coin.transfer cannot pay', async () => {
  const sid = await appSession(SHOP)
  expect(await failure(from(SHOP, 'CoinTransfer', sid, to, 10))).toStartWith('PermissionDenied')
  expect(balance()).toBe(1_000_000n)
})

test('coin.transfer granted without a limit: the app may spend nothing, and is told how to get a limit', async () => {
  await callLocal(node, 'AppGrant', owner, SHOP, ['coin.transfer'])
  const sid = await appSession(SHOP)
  expect(await failure(from(SHOP, 'CoinTransfer', sid, to, 10))).toMatch(/^PermissionDenied: app .* has no spending limit .*AppGrant\(appid, \['coin.transfer'\], limit\)/)
  expect(balance()).toBe(1_000_000n)
})

test('with a limit the app pays up to it; over it the transfer is refused and nothing moves', async () => {
  await callLocal(node, 'AppGrant', owner, SHOP, ['coin.transfer'], 1000)
  const sid = await appSession(SHOP)
  await from(SHOP, 'CoinTransfer', sid, to, 600, 'order 1')
  expect(balance()).toBe(1_000_000n - 600n)
  expect(await limitLeft()).toBe(400)
  expect(await failure(from(SHOP, 'CoinTransfer', sid, to, 401, 'order 2'))).toBe(
    `PermissionDenied: app ${SHOP} may spend 400 more 毫 of user ${node.config.owner}, this transfer needs 401: the user sets it in the launcher (Apps, the app's details) or with AppGrant(appid, ['coin.transfer'], limit)`,
  )
  expect(balance()).toBe(1_000_000n - 600n)
  expect(await limitLeft()).toBe(400)
  await from(SHOP, 'CoinTransfer', sid, to, 400, 'order 2')
  expect(await limitLeft()).toBe(0)
  expect(await failure(from(SHOP, 'CoinTransfer', sid, to, 1))).toStartWith('PermissionDenied: app')
  // The user's own session is not bound by the app's limit.
  await callLocal(node, 'CoinTransfer', owner, to, 5000)
  expect(balance()).toBe(1_000_000n - 6000n)
})

test('a transfer refused for insufficient funds gives the app its limit back', async () => {
  await callLocal(node, 'AppGrant', owner, SHOP, ['coin.transfer'], 10_000_000)
  const sid = await appSession(SHOP)
  expect(await failure(from(SHOP, 'CoinTransfer', sid, to, 5_000_000))).toStartWith('Conflict: insufficient funds')
  expect(await limitLeft()).toBe(10_000_000)
})

test('two transfers at once cannot both spend the last of the limit', async () => {
  await callLocal(node, 'AppGrant', owner, SHOP, ['coin.transfer'], 100)
  const sid = await appSession(SHOP)
  const before = balance()
  const both = await Promise.allSettled([from(SHOP, 'CoinTransfer', sid, to, 70), from(SHOP, 'CoinTransfer', sid, to, 70)])
  expect(both.filter((r) => r.status === 'fulfilled').length).toBe(1)
  expect(balance()).toBe(before - 70n)
  expect(await limitLeft()).toBe(30)
  expect(node.ledger.total()).toBe(1_000_000n)
})
