// Weibo on one node in real Chromium: installed by default (GetVar appinfos lists it), opened with
// a one-time code on its own origin; A sets a profile and posts (text shown as text, the 2000
// character limit enforced by the page), B follows A and sees the post in her home timeline, likes
// it once (liking is idempotent), and A sees the count; unfollowing takes the post away again.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { appOrigin } from '../../runtime/apps/ids.ts'
import { launchBrowser } from '../helpers/browser.ts'
import { bootTest, type TestKernel } from '../helpers/kernel.ts'
import { SCREENSHOTS } from './apps-fixture.ts'
import { go, openWeibo, post, setProfile, weiboInfo, weiboUser } from './weibo-fixture.ts'
import { screenshot } from './weibo-font.ts'

let node: TestKernel
let browser: Browser

beforeAll(async () => {
  node = await bootTest()
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  await node?.stop()
})

describe('weibo', () => {
  test('a new node has Weibo installed, listed by GetVar appinfos', async () => {
    const weibo = await weiboInfo(node)
    expect(weibo.permissions.map((p) => p.name)).toContain('mimei')
  })

  test('profile, post, follow, home timeline and likes between two users', async () => {
    const a = await weiboUser(node)
    const b = await weiboUser(node)

    const pa = await openWeibo(browser, a)
    expect(pa.url()).toStartWith(appOrigin(a.appId, node.http.port))
    expect(pa.url()).not.toContain('code=')
    expect(await pa.isHidden('#private')).toBe(true)
    await setProfile(pa, 'Alice', 'Writes about trees')
    expect(await pa.textContent('#toast')).toBe('Saved')
    expect(await pa.textContent('#my-id')).toBe(a.uid)

    await go(pa, '#/home', 'home')
    await pa.fill('#compose textarea', 'x'.repeat(2001))
    expect(await pa.isDisabled('#compose button.send')).toBe(true)
    expect(await pa.textContent('#compose .count')).toBe('2001/2000')
    const key = await post(pa, 'Hello from <b>Alice</b>')
    expect(key.split('/')[0]).toBe(a.uid)
    const mine = pa.locator(`#home-feed > li[data-post="${key}"]`)
    expect(await mine.locator('.text').first().textContent()).toBe('Hello from <b>Alice</b>')
    expect(await mine.locator('.post-head .who').textContent()).toBe('Alice')
    await go(pa, `#/u/${a.uid}`, 'user')
    await pa.waitForSelector('#user-feed li[data-post]')
    expect(await pa.locator('#user-feed li[data-post]').count()).toBe(1)
    await screenshot(pa, join(SCREENSHOTS, 'weibo-user.png'))

    const pb = await openWeibo(browser, b, { locale: 'zh-CN', width: 390, height: 844 })
    expect(await pb.textContent('a[data-tab="home"] [data-t]')).toBe('首页')
    expect(await pb.locator('#home-feed li[data-post]').count()).toBe(0)
    // A is among the people this node knows (the search screen lists them); B follows her there.
    await go(pb, '#/search', 'search')
    await pb.waitForSelector(`#people li[data-user="${a.uid}"]`)
    await pb.click(`#people li[data-user="${a.uid}"] button.follow-btn`)
    await pb.waitForSelector(`#people li[data-user="${a.uid}"] button.follow-btn[data-on="1"]`)
    await go(pb, '#/home', 'home')
    const seen = pb.locator(`#home-feed > li[data-post="${key}"]`)
    await seen.waitFor()
    expect(await seen.locator('.text').first().textContent()).toBe('Hello from <b>Alice</b>')
    expect(await seen.locator('.post-head .who').textContent()).toBe('Alice')
    await seen.locator('button.like').click()
    await pb.waitForSelector(`#home-feed > li[data-post="${key}"] button.like.on[data-count="1"]`)
    await screenshot(pb, join(SCREENSHOTS, 'weibo-home-zh-phone.png'))

    // A sees the like counted; the count is a set of likers, so a second like by B adds nothing.
    await pb.evaluate(async ([author, id]) => {
      const { Weibo, appIdOfHost } = await import('./store.js' as string)
      const { LeitherClient } = await import('/lib/leither.js' as string)
      const c = new LeitherClient()
      c.sid = sessionStorage.getItem('leither.sid')
      const w = new Weibo(c, appIdOfHost(location.hostname))
      await w.open()
      await w.like(author, id)
      w.close?.()
    }, key.split('/'))
    // A's page is told of the like (a notification) and then counts it on her post.
    await pa.waitForSelector('#badge:not([hidden])')
    await go(pa, '#/home', 'home')
    await pa.waitForSelector(`#home-feed > li[data-post="${key}"] button.like[data-count="1"]`)
    expect(await pa.isVisible(`#home-feed > li[data-post="${key}"] button.like.on`)).toBe(false)

    // Unfollowing takes A's post out of B's home timeline.
    await go(pb, `#/u/${a.uid}`, 'user')
    await pb.click('#user-head button.follow-btn')
    await pb.waitForSelector('#user-head button.follow-btn[data-on="0"]')
    await go(pb, '#/home', 'home')
    await pb.waitForSelector('#home-feed-box[data-done], .feed-box[data-done]')
    expect(await pb.locator('#home-feed li[data-post]').count()).toBe(0)
  })

  test('without the mimei grant the page says others cannot read the posts yet', async () => {
    const c = await weiboUser(node, false)
    const page = await openWeibo(browser, c)
    expect(await page.isVisible('#private')).toBe(true)
    expect(await page.textContent('#private')).toContain('mimei')
  })
})
