// Weibo's screens on one node in real Chromium, two users: pictures (at most 9, thumbnails made in
// the page, the full picture on a click), threaded replies, the hashtag page, deleting an own
// post, followers and following lists, an avatar shown on posts, and the home timeline paged by
// infinite scroll; Chinese at phone width. The network parts are in weibo-network.test.ts.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { launchBrowser } from '../helpers/browser.ts'
import { bootTest, type TestKernel } from '../helpers/kernel.ts'
import { SCREENSHOTS } from './apps-fixture.ts'
import { CJK_FAMILY, screenshot } from './weibo-font.ts'
import { go, openWeibo, pngBytes, post, setProfile, weiboUser, type WeiboUser } from './weibo-fixture.ts'

let node: TestKernel
let browser: Browser
let A: WeiboUser, B: WeiboUser
let pa: Page, pb: Page

beforeAll(async () => {
  node = await bootTest()
  browser = await launchBrowser()
  ;[A, B] = [await weiboUser(node), await weiboUser(node)]
  pa = await openWeibo(browser, A)
  pb = await openWeibo(browser, B, { locale: 'zh-CN', width: 390, height: 844 })
  await setProfile(pa, 'Alice', 'Writes about trees')
  await setProfile(pb, 'Bob', '')
  await go(pb, `#/u/${A.uid}`, 'user')
  await pb.click('#user-head button.follow-btn[data-on="0"]')
  await pb.waitForSelector('#user-head button.follow-btn[data-on="1"]')
})
afterAll(async () => {
  await browser?.close()
  await node?.stop()
})

describe('weibo screens', () => {
  test('at most 9 pictures; thumbnails in the card, the full picture on a click', async () => {
    await go(pa, '#/home', 'home')
    const png = await pngBytes(pa, 1200, 900)
    await pa.setInputFiles('#compose input[type=file]', Array.from({ length: 10 }, (_, i) => ({ name: `p${i}.png`, mimeType: 'image/png', buffer: png })))
    await pa.waitForSelector('#compose[data-images="9"]')
    expect(await pa.isDisabled('#compose .pick-btn')).toBe(true)
    await pa.click('#compose .preview:first-child .rm')
    await pa.waitForSelector('#compose[data-images="8"]')
    await pa.fill('#compose textarea', 'Eight pictures of one tree')
    const before = await pa.locator('#home-feed > li[data-post]').count()
    await pa.click('#compose button.send')
    await pa.waitForFunction((n) => document.querySelectorAll('#home-feed > li[data-post]').length > n, before)
    const card = pa.locator('#home-feed > li[data-post]').first()
    expect(await card.locator('.pics img').count()).toBe(8)
    // The thumbnail is at most 360 px; the full picture (at most 2048 px) opens in the dialog.
    await pa.waitForFunction(() => Array.from(document.querySelectorAll<HTMLImageElement>('#home-feed > li:first-child .pics img')).every((i) => i.complete && i.naturalWidth > 0))
    expect(await card.locator('.pics img').first().evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(360)
    await card.locator('.pics img').first().click()
    await pa.waitForFunction(() => (document.querySelector<HTMLImageElement>('#dialog img.full')?.naturalWidth ?? 0) > 0)
    expect(await pa.locator('#dialog img.full').evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(1200)
    await screenshot(pa, join(SCREENSHOTS, 'weibo-picture.png'))
    await pa.keyboard.press('Escape')
  })

  test('threaded replies, the hashtag page and deleting an own post', async () => {
    const key = await post(pa, 'Which tree is the oldest? #OldTrees')
    const [author, id] = key.split('/')
    await go(pb, `#/p/${author}/${id}`, 'post')
    await pb.fill('#post-page .comment-form textarea', 'The oak, surely')
    await pb.click('#post-page .comment-form button.send')
    const first = pb.locator('#post-page .comment').first()
    await first.waitFor()
    // A's page learns of the comment (her open notifications screen shows it), then answers it.
    await go(pa, '#/notifications', 'notifications')
    await pa.waitForSelector(`#notes li[data-kind="comment"][data-from="${B.uid}"]`)
    await go(pa, `#/p/${author}/${id}`, 'post')
    await pa.click('#post-page .comment button.reply')
    await pa.fill('#post-page .comment-form textarea', 'No, the yew')
    await pa.click('#post-page .comment-form button.send')
    // The reply sits under the comment it answers.
    await pa.waitForSelector('#post-page .comment .comments .comment .ctext:text("No, the yew")')
    expect(await pa.locator('#post-page .thread').getAttribute('data-count')).toBe('2')

    // The tag link goes to the tag's page, which lists the post (tags match without regard to case).
    await pa.click(`#post-page li[data-post="${key}"] a.tag`)
    await pa.waitForSelector('body[data-shown="tag"]')
    expect(pa.url()).toEndWith('#/tag/OldTrees')
    await pa.waitForSelector(`#tag-feed li[data-post="${key}"]`)
    await go(pa, '#/tag/oldtrees', 'tag')
    await pa.waitForSelector(`#tag-feed li[data-post="${key}"]`)

    // Deleting: gone from A's timeline, and B does not see it on A's page.
    pa.once('dialog', (d) => d.accept())
    await go(pa, `#/u/${A.uid}`, 'user')
    await pa.click(`#user-feed li[data-post="${key}"] button.delete`)
    await pa.waitForSelector(`#user-feed li[data-post="${key}"]`, { state: 'detached' })
    await go(pb, `#/u/${A.uid}`, 'user')
    await pb.waitForSelector('#user-feed[data-done], .feed-box[data-done="1"]')
    expect(await pb.locator(`#user-feed li[data-post="${key}"]`).count()).toBe(0)
  })

  test('followers and following lists; the avatar is shown on posts', async () => {
    await go(pa, `#/u/${A.uid}/followers`, 'user')
    await pa.waitForSelector(`#followers-list li[data-user="${B.uid}"]`)
    expect(await pa.textContent('#user-head [data-sub="followers"] b')).toBe('1')
    await go(pb, `#/u/${B.uid}/following`, 'user')
    await pb.waitForSelector(`#following-list li[data-user="${A.uid}"]`)

    await go(pa, '#/me', 'me')
    await pa.setInputFiles('#profile-form input[type=file]', { name: 'me.png', mimeType: 'image/png', buffer: await pngBytes(pa, 200, 200) })
    await pa.waitForSelector('#profile-form .face img')
    await pa.click('#profile-form button:not([type=button])')
    await pa.waitForSelector('#toast:not([hidden])')
    await go(pb, '#/home', 'home')
    await pb.waitForFunction((uid) => {
      const img = document.querySelector<HTMLImageElement>(`#home-feed > li[data-author="${uid}"] .post-head .avatar img`)
      return !!img && img.complete && img.naturalWidth > 0
    }, A.uid)
    // Chinese is drawn with a CJK font (weibo-font.ts), not as boxes: the face is loaded for the text on screen.
    expect(await pb.evaluate(async (family) => (await document.fonts.load(`16px "${family}"`, '关注')).filter((f) => f.status === 'loaded').length, CJK_FAMILY)).toBeGreaterThan(0)
    await screenshot(pb, join(SCREENSHOTS, 'weibo-avatar-zh-phone.png'))
  })

  test('the home timeline pages by infinite scroll, newest first, without repeats', async () => {
    for (let i = 0; i < 25; i++) await pa.evaluate((i) => (globalThis as any).weibo.wb.post(`numbered post ${i}`), i)
    await go(pb, '#/home', 'home')
    const keys = () => pb.$$eval('#home-feed > li[data-post]', (ls) => ls.map((l) => (l as HTMLElement).dataset.post!))
    const firstPage = (await keys()).length
    expect(firstPage).toBeLessThan(25)
    await pb.evaluate(() => window.scrollTo(0, document.body.scrollHeight))
    await pb.waitForFunction((n) => document.querySelectorAll('#home-feed > li[data-post]').length > n, firstPage)
    while ((await pb.getAttribute('.feed-box', 'data-done')) !== '1') {
      const n = (await keys()).length
      await pb.evaluate(() => window.scrollTo(0, document.body.scrollHeight))
      await pb.waitForFunction((n) => document.querySelectorAll('#home-feed > li[data-post]').length > n || document.querySelector<HTMLElement>('.feed-box')?.dataset.done === '1', n)
    }
    const all = await keys()
    expect(new Set(all).size).toBe(all.length)
    const ats = await pb.$$eval('#home-feed > li[data-post]', (ls) => ls.map((l) => Number((l as HTMLElement).dataset.at)))
    expect(ats).toEqual([...ats].sort((a, b) => b - a))
    const texts = await pb.$$eval('#home-feed > li[data-post] > .text', (ls) => ls.map((l) => l.textContent))
    for (let i = 0; i < 25; i++) expect(texts).toContain(`numbered post ${i}`)
  })
})
