// Shared pieces of the Weibo browser tests and benches: a user logged in on a node with Weibo's
// permissions granted (as the launcher's dialog grants them), the page opened the way the launcher
// opens it (a one-time code on the app's own origin), and waits on what the page marks in the DOM.
import type { Browser, Page } from 'playwright-core'
import { createUserKey, signPassport, type KeyPair } from '../../runtime/identity/index.ts'
import { callLocal, type TestKernel } from '../helpers/kernel.ts'
import { ownerSid } from '../apps/helpers.ts'
import { withCjkFont } from './weibo-font.ts'

export interface AppInfo {
  id: string
  name: string
  permissions: { name: string }[]
}

/** Weibo as the node lists it (GetVar appinfos). */
export async function weiboInfo(node: TestKernel): Promise<AppInfo> {
  const infos = (await callLocal(node, 'GetVar', await ownerSid(node), 'appinfos')) as AppInfo[]
  const weibo = infos.find((a) => a.name === 'weibo')
  if (!weibo) throw new Error(`Weibo is not installed: ${infos.map((a) => a.name).join(', ')}`)
  return weibo
}

export interface WeiboUser {
  node: TestKernel
  key: KeyPair
  uid: string
  sid: string
  appId: string
}

let made = 0

/**
 * A new user whose key is on `node` (a user's key lives on her node: messages, events and DMs are
 * signed or derived with it), logged in; with `grant` (default) every permission Weibo asks for is granted.
 */
export async function weiboUser(node: TestKernel, grant = true): Promise<WeiboUser> {
  const key = createUserKey(node.dataDir, `weibo${++made}`)
  const ppt = signPassport(key, { audience: node.identity.nodeId, data: { CertFor: 'Self' }, ttl: 3600 })
  const sid = ((await callLocal(node, 'Login', ppt)) as { sid: string }).sid
  const info = await weiboInfo(node)
  if (grant) await callLocal(node, 'AppGrant', sid, info.id, info.permissions.map((p) => p.name))
  return { node, key, uid: key.id, sid, appId: info.id }
}

export interface OpenOptions {
  locale?: string
  width?: number
  height?: number
  hash?: string
}

/** Opens Weibo for `u` in a new browser context and waits until the page is ready. */
export async function openWeibo(browser: Browser, u: WeiboUser, o: OpenOptions = {}): Promise<Page> {
  const { url } = (await callLocal(u.node, 'SessionCode', u.sid, u.appId)) as { url: string }
  const ctx = await browser.newContext({ locale: o.locale ?? 'en-US', viewport: { width: o.width ?? 1280, height: o.height ?? 900 } })
  await withCjkFont(ctx)
  const page = await ctx.newPage()
  if (process.env.DEBUG_PAGES) page.on('console', (m) => console.log(`page ${u.uid.slice(0, 6)}:`, m.text()))
  page.on('pageerror', (e) => console.error(`page ${u.uid.slice(0, 6)} error:`, e.message))
  await page.goto(url + (o.hash ?? ''))
  await page.waitForSelector('body[data-ready="1"], body[data-ready="0"], body[data-ready="error"]')
  return page
}

/** Goes to a screen by its address and waits until it is drawn. */
export async function go(page: Page, hash: string, shown?: string): Promise<void> {
  const before = Number((await page.getAttribute('body', 'data-renders')) ?? 0)
  await page.evaluate((h) => (location.hash === h ? window.dispatchEvent(new HashChangeEvent('hashchange')) : (location.hash = h)), hash)
  await page.waitForFunction(([n, s]) => Number(document.body.dataset.renders) > n && (!s || document.body.dataset.shown === s), [before, shown ?? ''] as const)
}

/** Sets the profile on #/me. */
export async function setProfile(page: Page, name: string, bio = ''): Promise<void> {
  await go(page, '#/me', 'me')
  await page.fill('#profile-form input[name=name]', name)
  await page.fill('#profile-form textarea[name=bio]', bio)
  await page.click('#profile-form button:not([type=button])')
  await page.waitForSelector('#toast:not([hidden])')
}

/** A PNG of `w`×`h` drawn in the page (a gradient and a disc), as bytes for setInputFiles. */
export async function pngBytes(page: Page, w = 640, h = 480): Promise<Buffer> {
  const b64 = await page.evaluate(
    ([w, h]) => {
      const c = document.createElement('canvas')
      c.width = w
      c.height = h
      const g = c.getContext('2d')!
      const grad = g.createLinearGradient(0, 0, w, h)
      grad.addColorStop(0, '#e6162d')
      grad.addColorStop(1, '#f5a524')
      g.fillStyle = grad
      g.fillRect(0, 0, w, h)
      g.fillStyle = '#fff'
      g.beginPath()
      g.arc(w / 2, h / 2, Math.min(w, h) / 4, 0, Math.PI * 2)
      g.fill()
      return c.toDataURL('image/png').split(',')[1]
    },
    [w, h] as const,
  )
  return Buffer.from(b64, 'base64')
}

/** Posts from the home screen's compose box (text and pictures); resolves the new post's key author/id. */
export async function post(page: Page, text: string, images: Buffer[] = []): Promise<string> {
  await go(page, '#/home', 'home')
  await page.fill('#compose textarea', text)
  if (images.length) {
    await page.setInputFiles('#compose input[type=file]', images.map((buffer, i) => ({ name: `pic${i}.png`, mimeType: 'image/png', buffer })))
    await page.waitForSelector(`#compose[data-images="${images.length}"]`)
  }
  const before = new Set(await page.$$eval('#home-feed > li[data-post]', (ls) => ls.map((l) => (l as HTMLElement).dataset.post!)))
  await page.click('#compose button.send')
  const handle = await page.waitForFunction((seen) => Array.from(document.querySelectorAll<HTMLElement>('#home-feed > li[data-post]')).map((l) => l.dataset.post!).find((k) => !seen.includes(k)), [...before])
  return (await handle.jsonValue()) as string
}
