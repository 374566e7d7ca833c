// `bun bench/weibo-live.ts [--quick]`: Weibo end to end on two linked nodes: from "post" on A (the
// store, as the page calls it) to the post's card on B's open home timeline in Chromium, p50/p95
// over 50 posts; anchor in the same run: libp2p ping between the two nodes. → bench/RESULTS.md
import { machineLine, table, writeSection } from './results.ts'
import { benchUser, closeStore, commit, load, percentile, store } from './weibo-support.ts'
import { launchBrowser } from '../test/helpers/browser.ts'
import { bootNetwork, peerIdOf } from '../test/helpers/network.ts'
import { openWeibo, go } from '../test/e2e/weibo-fixture.ts'
import { peerIdFromString } from '@libp2p/peer-id'

const quick = process.argv.includes('--quick')
const POSTS = quick ? 5 : 50
const MISS_MS = 10_000
const loadStart = load()
const net = await bootNetwork(2)
const [na, nb] = net.nodes
const browser = await launchBrowser()
const lat: number[] = []
const ping: number[] = []
let missed = 0
try {
  const A = await benchUser(na)
  const B = await benchUser(nb)
  const wa = await store(A)
  await wa.setProfile('Author', '')
  const page = await openWeibo(browser, { ...B, key: B.key }, { hash: '' })
  await page.evaluate((uid) => (globalThis as any).weibo.wb.follow(uid), A.uid)
  await go(page, '#/home', 'home')
  // Each card's arrival time on the page's wall clock (the same clock as Date.now() here).
  await page.evaluate(() => {
    const seen: Record<string, number> = ((globalThis as any).seen = {})
    new MutationObserver(() => {
      for (const li of Array.from(document.querySelectorAll<HTMLElement>('#home-feed > li[data-post]'))) seen[li.dataset.post!] ??= Date.now()
    }).observe(document.getElementById('home-feed')!, { childList: true })
  })
  for (let i = 0; i < POSTS; i++) {
    const t0 = Date.now()
    const id = await wa.post(`post ${i} at ${t0}`)
    const key = `${A.uid}/${id}`
    const at = await page
      .waitForFunction((k) => (globalThis as any).seen[k], key, { timeout: MISS_MS, polling: 'raf' })
      .then((h) => h.jsonValue() as Promise<number>)
      .catch(() => undefined)
    if (at === undefined) missed++
    else lat.push(at - t0)
  }
  const lib = (k: typeof na) => k.net!.libp2p as any
  for (let i = 0; i < POSTS; i++) ping.push(await lib(na).services.ping.ping(peerIdFromString(peerIdOf(nb))))
  closeStore(A)
} finally {
  await browser.close()
  await net.stop()
}
const f = (xs: number[], p: number) => (xs.length ? `${percentile(xs, p).toFixed(0)} ms` : 'n/a')
const fp = f
const md = [
  machineLine(),
  `Commit ${commit()}; load average ${loadStart} at start, ${load()} at end. Two in-process nodes linked on 127.0.0.1; A posts with the store from Bun (the page's own store.js over /lib/leither.js), B's home timeline is open in headless Chromium; latency = the card's arrival on B's page (MutationObserver, wall clock) minus the moment before A's post call. ${POSTS} posts one after another; a post not shown within ${MISS_MS / 1000} s counts as missed.`,
  '',
  table(
    ['', 'p50', 'p95', 'max', 'missed'],
    [
      ['post on A → card on B’s open timeline', f(lat, 50), f(lat, 95), f(lat, 100), `${missed}/${POSTS}`],
      ['libp2p ping A → B (anchor)', fp(ping, 50), fp(ping, 95), fp(ping, 100), ''],
    ],
    ' rrrr',
  ),
].join('\n')
writeSection('Weibo: post to follower’s open timeline', md, { quick })
if (!quick) console.log(md)
process.exit(0)
