// The launcher's wallet in real Chromium: balance, a send with its note, history, a refusal shown in
// the node's words, another user's wallet, the spending limit set for an app with coin.transfer
// (its transfers over the limit refused), and the traffic table for the owner when the node has it.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { appId, appOrigin } from '../../runtime/apps/ids.ts'
import { createUserKey, generateKeyPair } from '../../runtime/identity/index.ts'
import { launchBrowser } from '../helpers/browser.ts'
import { bootTest, callLocal, failure, loginPassport, ownerKey, type TestKernel } from '../helpers/kernel.ts'
import { appFiles, ownerSid, signedTar, upload } from '../apps/helpers.ts'
import { SCREENSHOTS } from './apps-fixture.ts'

let node: TestKernel
let owner: string
let browser: Browser
let context: BrowserContext
const author = generateKeyPair()
const SHOP = appId(author.id, 'shop')

beforeAll(async () => {
  node = await bootTest({ coinSupply: 1_000_000 }) // 1000 Nuo
  owner = await ownerSid(node)
  browser = await launchBrowser()
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } })
})
afterAll(async () => {
  await browser?.close()
  await node?.stop()
})

/** The launcher's wallet tab, signed in with a one-time link as `leither open` prints it. */
async function wallet(sid = owner): Promise<Page> {
  const { url } = (await callLocal(node, 'SessionCode', sid)) as { url: string }
  const page = await context.newPage()
  await page.goto(url)
  await page.waitForSelector('body[data-ready="1"]')
  await page.click('a[data-tab="wallet"]')
  await page.waitForSelector('#view-wallet:not([hidden]) #balance')
  return page
}
const toastSays = (page: Page, text: string) => page.waitForFunction((t) => document.querySelector('#toast')?.textContent?.includes(t), text)

test('balance, send with a note, history; a refusal is shown in the node’s words; the receiver sees it in her wallet', async () => {
  const alice = createUserKey(node.dataDir, 'alice')
  const page = await wallet()
  expect(await page.textContent('#balance')).toBe('1000.000 Nuo')
  expect(await page.textContent('#wallet-balance')).toBe(`1000.000 NuoAccount${ownerKey(node).id}Copy`)

  await page.fill('#send input[name=to]', alice.id)
  await page.fill('#send input[name=amount]', '2.5')
  await page.fill('#send input[name=memo]', 'for the bandwidth')
  await page.click('#send button[type=submit]')
  await toastSays(page, `Sent 2.500 Nuo to ${alice.id}`)
  await page.waitForFunction(() => document.querySelector('#balance')?.textContent === '997.500 Nuo')
  const first = page.locator('#history tr').first()
  expect(await first.getAttribute('data-type')).toBe('send')
  const cells = await first.locator('td').allTextContents()
  expect(cells.slice(1)).toEqual(['Sent', '-2.500', `to ${alice.id.slice(0, 8)}…`, 'for the bandwidth', '997.500'])
  expect(node.ledger.info(ownerKey(node).id).balance).toBe(997_500n)

  await page.fill('#send input[name=to]', alice.id)
  await page.fill('#send input[name=amount]', '5000')
  await page.click('#send button[type=submit]')
  await toastSays(page, 'insufficient funds')
  expect(await page.textContent('#balance')).toBe('997.500 Nuo')
  await page.screenshot({ path: join(SCREENSHOTS, 'launcher-wallet.png') })

  const sa = ((await callLocal(node, 'Login', loginPassport(node, alice))) as { sid: string }).sid
  const hers = await wallet(sa)
  expect(await hers.textContent('#balance')).toBe('2.500 Nuo')
  expect((await hers.locator('#history tr').first().locator('td').allTextContents())[1]).toBe('Received')
  expect(await hers.isVisible('#traffic-card')).toBe(false) // per-peer traffic is the owner's
  await hers.close()
  await page.close()
})

test('the spending limit of an app with coin.transfer, set in its details; its transfers over it are refused', async () => {
  await upload(node, owner, await signedTar(author, appFiles({ name: 'shop', manifest: { permissions: [{ name: 'coin.transfer', reason: 'to pay for your orders' }] } })))
  const page = await wallet()
  await page.click('a[data-tab="apps"]')
  await page.click(`[data-app="${SHOP}"] .more`)
  await page.waitForSelector('#app-dlg[open]')
  await page.click('#app-dlg label:has(input[data-cap="coin.transfer"])')
  await page.waitForSelector('#limit-left')
  expect(await page.textContent('#limit-left')).toBe('No spending limit set: it cannot pay yet')

  const shop = async () => {
    const { code } = (await callLocal(node, 'SessionCode', owner, SHOP)) as { code: string }
    const origin = appOrigin(SHOP, node.http.port)
    const sid = ((await node.dispatcher.call('CodeLogin', [code], { transport: 'http', origin })) as { sid: string }).sid
    return (to: string, amount: number) => node.dispatcher.call('CoinTransfer', [sid, to, amount, 'order'], { transport: 'http', origin })
  }
  const to = generateKeyPair().id
  const pay = await shop()
  expect(await failure(pay(to, 100))).toStartWith(`PermissionDenied: app ${SHOP} has no spending limit`)

  await page.fill('#limit-form input[name=limit]', '0.5')
  await page.click('#limit-form button[type=submit]')
  await toastSays(page, 'shop may spend up to 0.500 Nuo')
  expect(await page.textContent('#limit-left')).toBe('May still spend 0.500 Nuo')
  await page.screenshot({ path: join(SCREENSHOTS, 'launcher-app-limit.png') })

  const before = node.ledger.info(ownerKey(node).id).balance
  expect(await failure(pay(to, 600))).toStartWith(`PermissionDenied: app ${SHOP} may spend 500 more 毫`)
  await pay(to, 400)
  expect(node.ledger.info(ownerKey(node).id).balance).toBe(before - 400n)
  await page.reload()
  await page.waitForSelector('body[data-ready="1"]')
  await page.click(`[data-app="${SHOP}"] .more`)
  await page.waitForSelector('#limit-left')
  expect(await page.textContent('#limit-left')).toBe('May still spend 0.100 Nuo')
  await page.close()
})

test('the owner sees traffic per peer when the node meters it (CoinTraffic), and nothing of it otherwise', async () => {
  const page = await wallet()
  const meters = await callLocal(node, 'CoinTraffic', owner).then(
    () => true,
    () => false,
  )
  if (meters) {
    await page.waitForSelector('#traffic-card:not([hidden])')
    expect(await page.textContent('#traffic')).toContain('No traffic with other nodes yet.')
  } else {
    expect(await page.isVisible('#traffic-card')).toBe(false)
  }
  await page.close()
})
