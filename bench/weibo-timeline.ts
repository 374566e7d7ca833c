// `bun bench/weibo-timeline.ts [--quick]`: Weibo's home timeline in Chromium for a reader who
// follows 100 authors with 10,000 posts among them, all on another node and synced to the
// reader's: time from navigation to the first page shown and to 50 posts shown (cold, medians),
// and the time per further page as infinite scroll fetches it (the store's call and the cards drawn), p50/p95.
// Anchor in the same run: a static page of 50 cards of the same markup from a bare Bun.serve.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { machineLine, table, writeSection } from './results.ts'
import { flag, withTimeout } from './support.ts'
import { benchUser, closeStore, commit, load, percentile, store, until } from './weibo-support.ts'
import type { Page } from 'playwright-core'
import { launchBrowser } from '../test/helpers/browser.ts'
import { bootNetwork } from '../test/helpers/network.ts'
import { openWeibo } from '../test/e2e/weibo-fixture.ts'

const quick = process.argv.includes('--quick')
// --authors N --per M: a smaller set-up than the specified 100 × 100 (the section says which ran).
const AUTHORS = Number(flag('authors') ?? (quick ? 10 : 100))
const PER = Number(flag('per') ?? (quick ? 10 : 100))
const RUNS = quick ? 2 : 5
const PAGES = quick ? 3 : 20
const loadStart = load()
const t0 = Date.now()
/** Progress on stderr with BENCH_DEBUG=1 (the set-up takes minutes). */
const progress = process.env.BENCH_DEBUG ? (...a: unknown[]) => console.error(`${((Date.now() - t0) / 1000).toFixed(0)} s`, ...a) : () => {}
const net = await bootNetwork(2)
const [authorsNode, readerNode] = net.nodes
const browser = await launchBrowser()
const css = readFileSync(join(import.meta.dir, '../apps/weibo/style.css'), 'utf8')
let setupS = 0
const first: number[] = []
const fifty: number[] = []
const pages: number[] = []
const anchor: number[] = []
try {
  // 100 authors on one node, 100 posts each (eight writers at a time).
  const authors = await Promise.all(Array.from({ length: AUTHORS }, () => benchUser(authorsNode)))
  let next = 0
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < authors.length) {
        const a = authors[next++]
        const wb = await store(a)
        await wb.setProfile(`Author ${next}`, 'writes a lot')
        for (let i = 0; i < PER; i++) await wb.post(`Post ${i} by author ${next}: #bench @${authors[0].uid} some words to make it a real post.`)
        closeStore(a)
      }
    }),
  )
  progress('posts written')
  const reader = await benchUser(readerNode)
  const wr = await store(reader)
  for (const a of authors) await wr.follow(a.uid)
  progress('following')
  // Synced: every author's posts readable on the reader's node.
  await until(async () => {
    const counts = await Promise.all(authors.map((a) => wr.userTimeline(a.uid, { limit: PER }).then((r: { posts: unknown[] }) => r.posts.length)))
    progress('synced', counts.reduce((a, b) => a + b, 0))
    return counts.every((n) => n >= PER)
  }, `${AUTHORS * PER} posts synced to the reader's node`, 900_000, 1000)
  closeStore(reader)
  setupS = (Date.now() - t0) / 1000

  // Scrolls to the end of the list (infinite scroll loads the next page) until `enough()` or the end.
  const scrollUntil = async (page: Page, enough: string) => {
    for (;;) {
      if (await page.evaluate(enough)) return
      if ((await page.getAttribute('.feed-box', 'data-done')) === '1') return
      const n = await page.locator('#home-feed > li[data-post]').count()
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight))
      await page.waitForFunction((n) => document.querySelectorAll('#home-feed > li[data-post]').length > n || document.querySelector<HTMLElement>('.feed-box')!.dataset.done === '1', n)
    }
  }
  for (let r = 0; r < RUNS; r++) {
    const page = await openWeibo(browser, reader)
    await page.waitForSelector('body[data-shown="home"]')
    first.push(await page.evaluate(() => performance.getEntriesByType('mark').find((m) => m.name.startsWith('weibo-shown'))!.startTime))
    progress('first page shown')
    await scrollUntil(page, "document.querySelectorAll('#home-feed > li[data-post]').length >= 50")
    fifty.push(await page.evaluate(() => performance.now()))
    progress('50 shown')
    if (r === 0) {
      await scrollUntil(page, `globalThis.weibo.pageTimes.length > ${PAGES}`)
      pages.push(...((await page.evaluate(() => (globalThis as any).weibo.pageTimes.slice(1))) as number[]))
    }
    await page.context().close()
  }

  // Anchor: the same markup for 50 posts, static, from a bare Bun.serve, in the same browser.
  const card = (i: number) => `<li class="post"><div class="post-head"><span class="avatar" style="width:40px;height:40px;background:hsl(${i * 7} 55% 55%)">A</span><div><a class="who">Author ${i}</a><a class="when">3 min ago</a></div></div><div class="text">Post ${i}: <a class="tag">#bench</a> some words to make it a real post.</div><div class="actions"><button>⇄ Repost</button><button>💬 Comment</button><button>♡ Like</button></div></li>`
  const html = `<!doctype html><meta charset="utf-8"><style>${css}</style><main><ol class="feed">${Array.from({ length: 50 }, (_, i) => card(i)).join('')}</ol></main><script>performance.mark('anchor-shown')</script>`
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response(html, { headers: { 'content-type': 'text/html' } }) })
  for (let r = 0; r < RUNS; r++) {
    const ctx = await browser.newContext()
    const page = await ctx.newPage()
    await page.goto(server.url.href)
    anchor.push(await page.evaluate(() => performance.getEntriesByName('anchor-shown')[0].startTime))
    await ctx.close()
  }
  server.stop(true)
  progress('anchor')
} finally {
  await browser.close()
  progress('browser closed')
  // Bounded: the authors' node has been seen to take minutes to stop after this run.
  await withTimeout(net.stop(), 30_000, 'stopping the nodes').catch(() => progress('the nodes did not stop within 30 s'))
  progress('stopped')
}
const ms = (xs: number[], p: number) => (xs.length ? `${percentile(xs, p).toFixed(0)} ms` : 'n/a')
const md = [
  machineLine(),
  `Commit ${commit()}; load average ${loadStart} at start, ${load()} at end. ${AUTHORS} authors with ${PER} posts each (${AUTHORS * PER}) on one node; the reader, on a second linked node, follows all of them and waits until every post is synced there (set-up ${setupS.toFixed(0)} s). Headless Chromium from npm; ${RUNS} cold loads (a fresh browser context each), times on the page's own clock from navigation start: "first page" is the home screen drawn with its first page of posts, "50 posts" the first 50 cards in the list (scrolling to the end as needed). Per page: the further pages of the first load (${pages.length}) as infinite scroll fetches them, each from the request to its cards appended (the store's call included).`,
  '',
  table(
    ['', 'p50', 'p95'],
    [
      ['home: first page shown (cold)', ms(first, 50), ms(first, 95)],
      ['home: 50 posts shown (cold)', ms(fifty, 50), ms(fifty, 95)],
      ['one more page (infinite scroll)', ms(pages, 50), ms(pages, 95)],
      ['static page of 50 cards, bare Bun.serve (anchor)', ms(anchor, 50), ms(anchor, 95)],
    ],
    ' rr',
  ),
].join('\n')
writeSection('Weibo: home timeline in Chromium', md, { quick })
if (!quick) console.log(md)
process.exit(0)
