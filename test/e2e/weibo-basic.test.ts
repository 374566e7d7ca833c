// Weibo on one node in real Chromium: installed by default (GetVar appinfos lists it), opened with
// a one-time code on its own origin; A sets a profile and posts, B follows A and sees the post in
// her home timeline, likes it once (liking is idempotent), and A sees the count.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { appOrigin } from '../../runtime/apps/ids.ts'
import { generateKeyPair, signPassport } from '../../runtime/identity/index.ts'
import { launchBrowser } from '../helpers/browser.ts'
import { bootTest, callLocal, type TestKernel } from '../helpers/kernel.ts'
import { ownerSid } from '../apps/helpers.ts'
import { SCREENSHOTS } from './apps-fixture.ts'

let node: TestKernel
let browser: Browser
let weiboId: string

beforeAll(async () => {
  node = await bootTest()
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  await node?.stop()
})

async function userSid(): Promise<{ sid: string; uid: string }> {
  const user = generateKeyPair()
  const ppt = signPassport(user, { audience: node.identity.nodeId, data: { CertFor: 'Self' }, ttl: 300 })
  return { sid: ((await callLocal(node, 'Login', ppt)) as { sid: string }).sid, uid: user.id }
}

/** Weibo opened the way the launcher opens it: a one-time code on the app's own origin. */
async function openWeibo(sid: string, locale = 'en-US', width = 1280): Promise<Page> {
  const { url } = (await callLocal(node, 'SessionCode', sid, weiboId)) as { url: string }
  const ctx = await browser.newContext({ locale, viewport: { width, height: 900 } })
  const page = await ctx.newPage()
  if (process.env.DEBUG_PAGES) page.on('console', (m) => console.log('page:', m.text()))
  await page.goto(url)
  await page.waitForSelector('body[data-ready="1"]')
  expect(page.url()).toStartWith(appOrigin(weiboId, node.http.port))
  expect(page.url()).not.toContain('code=')
  return page
}

const tab = async (page: Page, name: string) => {
  await page.click(`a[data-tab="${name}"]`)
  await page.waitForSelector(`body[data-shown="${name}"]`)
}

describe('weibo', () => {
  test('a new node has Weibo installed, listed by GetVar appinfos', async () => {
    const infos = (await callLocal(node, 'GetVar', await ownerSid(node), 'appinfos')) as { id: string; name: string; permissions: { name: string }[] }[]
    const weibo = infos.find((a) => a.name === 'weibo')
    expect(weibo).toBeDefined()
    expect(weibo!.permissions.map((p) => p.name)).toEqual(['mimei'])
    weiboId = weibo!.id
  })

  test('profile, post, follow, home timeline and likes between two users', async () => {
    const a = await userSid()
    const b = await userSid()
    // Each user lets Weibo make her area readable to others (the launcher's permission dialog does this).
    for (const u of [a, b]) await callLocal(node, 'AppGrant', u.sid, weiboId, ['mimei'])

    const pa = await openWeibo(a.sid)
    expect(await pa.isHidden('#private')).toBe(true)
    await tab(pa, 'profile')
    expect(await pa.textContent('#my-id')).toBe(a.uid)
    await pa.fill('#profile-form input[name=name]', 'Alice')
    await pa.fill('#profile-form textarea[name=bio]', 'Writes about trees')
    await pa.click('#profile-form button')
    await pa.waitForSelector('#toast:not([hidden])')
    expect(await pa.textContent('#toast')).toBe('Saved')

    await tab(pa, 'home')
    await pa.fill('#text', 'x'.repeat(2001))
    expect(await pa.isDisabled('#post')).toBe(true)
    await pa.fill('#text', 'Hello from <b>Alice</b>')
    await pa.click('#post')
    await pa.waitForSelector('#home-feed li[data-post]')
    expect(await pa.textContent('#home-feed li[data-post] .text')).toBe('Hello from <b>Alice</b>')
    expect(await pa.textContent('#home-feed li[data-post] .who')).toBe('Alice')
    await tab(pa, 'mine')
    expect(await pa.locator('#mine-feed li[data-post]').count()).toBe(1)
    await pa.screenshot({ path: join(SCREENSHOTS, 'weibo-timeline.png') })

    const pb = await openWeibo(b.sid, 'zh-CN', 390)
    expect(await pb.textContent('a[data-tab="home"]')).toBe('首页')
    expect(await pb.locator('#home-feed li[data-post]').count()).toBe(0)
    await tab(pb, 'people')
    // A is listed among the node's Weibo users; B follows her by id.
    await pb.waitForSelector(`#people li[data-user="${a.uid}"]`)
    await pb.fill('#follow-form input[name=user]', a.uid)
    await pb.click('#follow-form button')
    await pb.waitForSelector(`#people li[data-user="${a.uid}"] button.plain`)
    await tab(pb, 'home')
    const post = pb.locator('#home-feed li[data-post]')
    expect(await post.count()).toBe(1)
    expect(await post.locator('.text').textContent()).toBe('Hello from <b>Alice</b>')
    expect(await post.locator('.who').textContent()).toBe('Alice')
    await post.locator('button.like').click()
    await pb.waitForSelector('#home-feed button.like.on[data-count="1"]')
    await pb.screenshot({ path: join(SCREENSHOTS, 'weibo-home-zh-phone.png') })

    // A sees the like counted; the count is a set of likers, so a second like by B adds nothing.
    const [author, id] = (await pb.getAttribute('#home-feed li[data-post]', 'data-post'))!.split('/')
    expect(author).toBe(a.uid)
    await pb.evaluate(async ([author, id]) => {
      const { Weibo } = await import('./store.js' as string)
      const { LeitherClient } = await import('/lib/leither.js' as string)
      const c = new LeitherClient()
      c.sid = sessionStorage.getItem('leither.sid')
      const w = new Weibo(c, (await import('./store.js' as string)).appIdOfHost(location.hostname))
      await w.open()
      await w.like(author, id)
    }, [author, id])
    await tab(pa, 'home')
    await pa.waitForSelector('#home-feed button.like[data-count="1"]')
    expect(await pa.isVisible('#home-feed button.like.on')).toBe(false)

    // Unfollowing takes A's post out of B's home timeline.
    await tab(pb, 'people')
    await pb.click(`#people li[data-user="${a.uid}"] button`)
    await pb.waitForSelector(`#people li[data-user="${a.uid}"] button:not(.plain)`)
    await tab(pb, 'home')
    expect(await pb.locator('#home-feed li[data-post]').count()).toBe(0)
  })

  test('without the mimei grant the page says others cannot read the posts yet', async () => {
    const c = await userSid()
    const page = await openWeibo(c.sid)
    expect(await page.isVisible('#private')).toBe(true)
    expect(await page.textContent('#private')).toContain('mimei')
  })
})
