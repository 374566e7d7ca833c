// Weibo across three nodes in real Chromium, one user on each: A posts text with a picture, #tag
// and @B; B (following A) sees it arrive on her open home timeline without reloading and gets a
// mention notification; B comments and likes, A sees both; C follows A, finds the post by searching
// #tag and reposts it, B reposts C's repost (the chain shown); A and B exchange direct messages that no node's storage holds in clear;
// with A's node stopped, C still reads A's posts. Screenshots of the main screens are saved.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { launchBrowser } from '../helpers/browser.ts'
import { bootNetwork, type TestNetwork } from '../helpers/network.ts'
import { gossipOnly } from '../helpers/replication.ts'
import { SCREENSHOTS } from './apps-fixture.ts'
import { go, openWeibo, pngBytes, post, setProfile, weiboUser, type WeiboUser } from './weibo-fixture.ts'
import { screenshot } from './weibo-font.ts'

let net: TestNetwork
let browser: Browser
let A: WeiboUser, B: WeiboUser, C: WeiboUser
let pa: Page, pb: Page, pc: Page
let key = ''
const shot = (page: Page, name: string) => screenshot(page, join(SCREENSHOTS, `weibo-${name}.png`))

/** Files under `dir` whose bytes contain `needle`. */
function filesHolding(dir: string, needle: string): string[] {
  const bytes = Buffer.from(needle, 'utf8')
  const out: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      const st = statSync(p)
      if (st.isDirectory()) walk(p)
      else if (st.isFile() && readFileSync(p).includes(bytes)) out.push(p)
    }
  }
  walk(dir)
  return out
}

/** Follows `uid` from her page. */
async function follow(page: Page, uid: string) {
  await go(page, `#/u/${uid}`, 'user')
  await page.click('#user-head button.follow-btn[data-on="0"]')
  await page.waitForSelector('#user-head button.follow-btn[data-on="1"]')
}

beforeAll(async () => {
  net = await bootNetwork(3)
  // No polling for newer versions: what reaches a follower came live, by gossip.
  gossipOnly(...net.nodes)
  browser = await launchBrowser()
  // The chain is A's node — C's node — B's node: C's sits between the two who exchange DMs.
  ;[A, C, B] = await Promise.all(net.nodes.map((n) => weiboUser(n)))
  ;[pa, pb, pc] = await Promise.all([openWeibo(browser, A), openWeibo(browser, B), openWeibo(browser, C, { width: 390, height: 844 })])
  await setProfile(pa, 'Alice', 'Writes about trees')
  await setProfile(pb, 'Bob', 'Likes trees')
  await setProfile(pc, 'Carol', 'Reads everything')
})
afterAll(async () => {
  await browser?.close()
  await net?.stop()
})

describe('weibo on three nodes', () => {
  test('B, following A, sees her post arrive live and is notified of the mention', async () => {
    await follow(pb, A.uid)
    await go(pb, '#/home', 'home')
    // The page must not reload or re-render: a mark set now is still there when the post shows.
    await pb.evaluate(() => ((window as unknown as { mark: number }).mark = Number(document.body.dataset.renders)))
    key = await post(pa, `Hello from the forest #trees @${B.uid} 🌲`, [await pngBytes(pa)])
    expect(key.split('/')[0]).toBe(A.uid)
    const card = pb.locator(`#home-feed > li[data-post="${key}"]`)
    await card.waitFor({ timeout: 15_000 })
    expect(await pb.evaluate(() => (window as unknown as { mark: number }).mark === Number(document.body.dataset.renders))).toBe(true)
    expect(await card.locator('.post-head .who').textContent()).toBe('Alice')
    expect(await card.locator('a.tag').first().getAttribute('href')).toBe('#/tag/trees')
    expect(await card.locator('a.mention').first().getAttribute('href')).toBe(`#/u/${encodeURIComponent(B.uid)}`)
    // The picture's thumbnail is loaded from A's area (a blob URL made by the store).
    await pb.waitForFunction((k) => {
      const img = document.querySelector<HTMLImageElement>(`#home-feed > li[data-post="${k}"] .pics img`)
      return !!img && img.complete && img.naturalWidth > 0
    }, key)
    await shot(pb, 'home-live')
    await pb.waitForSelector('#badge:not([hidden])')
    await go(pb, '#/notifications', 'notifications')
    expect(await pb.locator(`#notes li[data-kind="mention"][data-from="${A.uid}"]`).count()).toBe(1)
    await shot(pb, 'notifications')
  })

  test('B comments and likes; A sees both', async () => {
    const [author, id] = key.split('/')
    await go(pb, `#/p/${author}/${id}`, 'post')
    await pb.fill('#post-page .comment-form textarea', 'Lovely trees!')
    await pb.click('#post-page .comment-form button.send')
    await pb.waitForSelector('#post-page .comment .ctext:text("Lovely trees!")')
    await pb.click('#post-page button.like')
    await pb.waitForSelector('#post-page button.like.on[data-count="1"]')
    // A is told of both (her open notifications screen shows them as they come), then sees them on the post.
    await go(pa, '#/notifications', 'notifications')
    await pa.waitForSelector(`#notes li[data-kind="comment"][data-from="${B.uid}"]`, { timeout: 15_000 })
    await pa.waitForSelector(`#notes li[data-kind="like"][data-from="${B.uid}"]`, { timeout: 15_000 })
    expect(await pa.locator(`#notes li[data-kind="follow"][data-from="${B.uid}"]`).count()).toBe(1)
    expect(await pa.textContent(`#notes li[data-kind="comment"] .excerpt`)).toBe('Lovely trees!')
    await shot(pa, 'notifications-author')
    await go(pa, `#/p/${author}/${id}`, 'post')
    await pa.waitForSelector('#post-page button.like[data-count="1"]')
    await pa.waitForSelector(`#post-page .comment[data-author="${B.uid}"] .ctext:text("Lovely trees!")`)
    await shot(pa, 'post-comments')
  })

  test('C follows A, finds the post by searching #trees and reposts it', async () => {
    await follow(pc, A.uid)
    // Once C's node holds A's area, her posts take their place on C's open home timeline.
    await go(pc, '#/home', 'home')
    await pc.locator(`#home-feed > li[data-post="${key}"]`).waitFor({ timeout: 15_000 })
    await go(pc, `#/search?q=${encodeURIComponent('#trees')}`, 'search')
    const found = pc.locator(`#post-results li[data-post="${key}"]`)
    await found.waitFor()
    await shot(pc, 'search-phone')
    await found.locator('button.repost-btn').click()
    await pc.fill('#repost-form textarea', 'Look at this')
    await pc.click('#repost-form button.send')
    await pc.waitForSelector('#dialog', { state: 'hidden' })
    await go(pc, '#/home', 'home')
    const repost = pc.locator(`#home-feed > li[data-author="${C.uid}"]`).first()
    await repost.locator(`.origin[data-origin="${key}"]`).waitFor()
    expect(await repost.locator('.text').first().textContent()).toBe('Look at this')
    await shot(pc, 'repost-phone')
  })

  test("B follows C and reposts C's repost: B's card shows the chain, C's comment before A's post", async () => {
    await follow(pb, C.uid)
    await go(pb, '#/home', 'home')
    const theirs = pb.locator(`#home-feed > li[data-author="${C.uid}"]`).first()
    await theirs.locator(`.origin[data-origin="${key}"]`).waitFor({ timeout: 15_000 })
    await theirs.locator('button.repost-btn').first().click()
    await pb.fill('#repost-form textarea', 'Passing it on')
    await pb.click('#repost-form button.send')
    await pb.waitForSelector('#dialog', { state: 'hidden' })
    await go(pb, '#/home', 'home')
    const mine = pb.locator(`#home-feed > li[data-author="${B.uid}"]`).first()
    // The chain: B's words, then " //@Carol: Look at this", then A's post (the root) in its box.
    await mine.locator(`.origin[data-origin="${key}"]`).waitFor()
    expect(await mine.locator('.text').first().textContent()).toBe('Passing it on')
    const chain = mine.locator('.chain')
    expect(await chain.locator('a').first().getAttribute('href')).toBe(`#/u/${encodeURIComponent(C.uid)}`)
    expect((await chain.textContent())?.replace(/\s+/g, ' ').trim()).toBe('//@Carol: Look at this')
    expect(await mine.locator('.origin .text').textContent()).toContain('Hello from the forest')
    await shot(pb, 'repost-chain')
  })

  test('A and B exchange direct messages; no node holds them in clear, both ends hold them sealed', async () => {
    const hello = `Secret meeting at the old oak ${crypto.randomUUID()}`
    const reply = `See you there ${crypto.randomUUID()}`
    await go(pa, `#/dm/${B.uid}`, 'chat')
    await go(pb, `#/dm/${A.uid}`, 'chat')
    await pa.fill('#dm-form textarea', hello)
    await pa.click('#dm-form button')
    await pb.waitForSelector(`#chat .bubble:not(.mine) .body:text("${hello}")`, { timeout: 15_000 })
    await pb.fill('#dm-form textarea', reply)
    await pb.click('#dm-form button')
    await pa.waitForSelector(`#chat .bubble:not(.mine) .body:text("${reply}")`, { timeout: 15_000 })
    await shot(pa, 'dm')
    // The sealed records, as A's store keeps them in her private area (AES-GCM: iv and ciphertext).
    const sealed = (await pa.evaluate(async (peer) => {
      const wb = (globalThis as any).weibo.wb
      return Object.values((await wb.node.Hgetall(wb.priv, `dm:${peer}`)) ?? {}).map((v) => JSON.parse(String(v)).box.ct as string)
    }, B.uid)) as string[]
    expect(sealed.length).toBe(2)
    // Both ends hold the ciphertexts; no node's storage — C's, between them, nor A's or B's — holds the clear text.
    for (const ct of sealed) for (const n of [A.node, B.node]) expect(filesHolding(n.dataDir, ct).length).toBeGreaterThan(0)
    for (const n of [C.node, A.node, B.node]) for (const clear of [hello, reply]) expect(filesHolding(n.dataDir, clear)).toEqual([])
  })

  test("with A's node stopped, C still reads A's posts", async () => {
    await pa.context().close()
    await A.node.stop()
    await go(pc, `#/u/${A.uid}`, 'user')
    await pc.locator(`#user-feed li[data-post="${key}"]`).waitFor()
    expect(await pc.locator(`#user-feed li[data-post="${key}"] .post-head .who`).textContent()).toBe('Alice')
    await shot(pc, 'offline-author-phone')
  })
})
