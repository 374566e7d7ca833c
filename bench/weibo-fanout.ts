// `bun bench/weibo-fanout.ts [--quick]`: one author and 20 followers, each on her own node (in
// process, linked in a star around a 22nd node that holds no user): the share of followers whose
// Weibo (the page's store.js, run from Bun over /lib/leither.js) has a new post readable within 5 s
// of the author's post call, over 5 posts, and the time it took (p50/p95/max). Anchor in the same
// run: libp2p ping from the author's node to each follower's node. → bench/RESULTS.md
// BENCH_TRACE=1: where each follower's time went (weibo-fanout-trace.ts), on stderr.
import { peerIdFromString } from '@libp2p/peer-id'
import { machineLine, table, writeSection } from './results.ts'
import { withTimeout } from './support.ts'
import { benchUser, closeStore, commit, load, percentile, pooled, store } from './weibo-support.ts'
import { bootNetwork, peerIdOf } from '../test/helpers/network.ts'
import { tracer } from './weibo-fanout-trace.ts'

const quick = process.argv.includes('--quick')
const FOLLOWERS = quick ? 4 : 20
const POSTS = quick ? 2 : 5
const GOAL_MS = 5000
const WAIT_MS = 15_000
const loadStart = load()
const t0 = Date.now()
/** Progress on stderr with BENCH_DEBUG=1. */
const progress = process.env.BENCH_DEBUG ? (...a: unknown[]) => console.error(`${((Date.now() - t0) / 1000).toFixed(0)} s`, ...a) : () => {}
const net = await bootNetwork(FOLLOWERS + 2, { topology: 'star' })
const [, authorNode, ...followerNodes] = net.nodes
const within: number[] = []
const shown: number[] = []
const ping: number[] = []
let total = 0
let warmed = 0
try {
  progress('network up')
  const author = await benchUser(authorNode)
  const wa = await store(author)
  await wa.setProfile('Author', '')
  const followers = await pooled(followerNodes, 4, (n) => benchUser(n))
  const stores = await pooled(followers, 4, (f) => store(f))
  progress('stores open')
  await pooled(stores, 4, (w) => w.follow(author.uid))
  progress('following')
  // Each follower notes when a post is readable: on its 'post' event, getPost must return it.
  const arrived = stores.map(() => new Map<string, number>())
  stores.forEach((w, i) =>
    w.on('post', async ({ author: a, id }: { author: string; id: string }) => {
      if (a !== author.uid || arrived[i].has(id)) return
      if (await w.getPost(a, id)) arrived[i].set(id, Date.now())
    }),
  )
  // A first post, not measured: followers that get it within 30 s are set up (their replicas and subscriptions).
  const trace = process.env.BENCH_TRACE ? tracer(followerNodes, followers.map((f) => f.client), stores, wa.ownId, author.uid, author.client) : undefined
  const warm = await wa.post('hello, followers')
  const warmEnd = Date.now() + 30_000
  while (Date.now() < warmEnd && arrived.some((m) => !m.has(warm))) await Bun.sleep(100)
  warmed = arrived.filter((m) => m.has(warm)).length
  progress('warmed', warmed)
  for (let p = 0; p < POSTS; p++) {
    trace?.begin(p)
    const t0 = Date.now()
    const id = await wa.post(`fan-out ${p} at ${t0}`)
    const deadline = t0 + WAIT_MS
    while (Date.now() < deadline && arrived.some((m) => !m.has(id))) await Bun.sleep(50)
    progress('post', p, arrived.filter((m) => m.has(id)).length)
    for (const m of arrived) {
      total++
      const at = m.get(id)
      if (at !== undefined) shown.push(at - t0)
      if (at !== undefined && at - t0 <= GOAL_MS) within.push(at - t0)
    }
  }
  trace?.report()
  const lib = authorNode.net!.libp2p as any
  for (const n of followerNodes) ping.push(await lib.services.ping.ping(peerIdFromString(peerIdOf(n))).catch(() => NaN))
  for (const u of [author, ...followers]) closeStore(u)
} finally {
  await withTimeout(net.stop(), 30_000, 'stopping the nodes').catch(() => progress('the nodes did not stop within 30 s'))
}
const ms = (xs: number[], p: number) => (xs.length ? `${percentile(xs, p).toFixed(0)} ms` : 'n/a')
const md = [
  machineLine(),
  `Commit ${commit()}${process.env.WEIBO_STORE ? ` with the store of ${process.env.WEIBO_STORE_NAME ?? process.env.WEIBO_STORE}` : ''}; load average ${loadStart} at start, ${load()} at end. ${FOLLOWERS + 2} in-process nodes on 127.0.0.1 in a star around a node with no user; the author on one, one follower on each of ${FOLLOWERS} others, every store opened and following before a first, unmeasured post (${warmed} of ${FOLLOWERS} followers had it within 30 s). ${POSTS} measured posts, one after another (the next once every follower has the last or after ${WAIT_MS / 1000} s). "Readable" = the follower's store fired 'post' and getPost returned it.`,
  '',
  table(
    ['', 'value'],
    [
      [`followers with the post readable within ${GOAL_MS / 1000} s`, `${within.length}/${total} (${total ? ((100 * within.length) / total).toFixed(0) : 0}%)`],
      ['time to readable, p50 / p95 / max', `${ms(shown, 50)} / ${ms(shown, 95)} / ${ms(shown, 100)}`],
      ['never readable within 15 s', `${total - shown.length}`],
      ['libp2p ping author → follower, p50 / p95 (anchor)', `${ms(ping.filter((x) => !Number.isNaN(x)), 50)} / ${ms(ping.filter((x) => !Number.isNaN(x)), 95)}`],
    ],
    ' r',
  ),
].join('\n')
writeSection('Weibo: one author, 20 followers on 20 nodes', md, { quick })
if (!quick) console.log(md)
process.exit(0)
