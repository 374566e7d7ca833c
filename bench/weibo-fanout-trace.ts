// Where a follower's time goes in bench/weibo-fanout.ts (BENCH_TRACE=1): per follower and post, the
// moments (ms after the author's post call) the follower's node got the version's gossip and
// installed it, the page got the pubsub event, its own MiMeiSync ran, and 'post' fired. Printed on
// stderr as medians and p95 per stage; nothing of it goes into bench/RESULTS.md.
import type { TestKernel } from '../test/helpers/kernel.ts'
import { percentile } from './weibo-support.ts'

type Stage = 'gossip' | 'installed' | 'appMsg' | 'event' | 'lastAnswer' | 'syncStart' | 'syncEnd' | 'post' | 'readable'
export interface Tracer {
  /** Marks the start of a measured post, just before the author's post call (one at a time). */
  begin(n: number): void
  report(): void
}

export function tracer(nodes: TestKernel[], clients: any[], stores: any[], mid: string, author: string, authorClient: any): Tracer {
  const authorMarks: Map<string, number>[] = []
  const acall = authorClient.call.bind(authorClient)
  authorClient.call = async (name: string, args: unknown[]) => {
    const m = cur && (authorMarks[cur.n] ??= new Map())
    const t = cur?.t0 ?? 0
    m?.set(`${name}<`, Date.now() - t)
    try {
      return await acall(name, args)
    } finally {
      m?.set(`${name}>`, Date.now() - t)
    }
  }
  let cur: { n: number; t0: number } | undefined
  const marks: Map<Stage, number>[][] = nodes.map(() => [])
  const mark = (i: number, s: Stage) => {
    if (!cur) return
    const m = (marks[i][cur.n] ??= new Map())
    if (!m.has(s)) m.set(s, Date.now() - cur.t0)
  }
  nodes.forEach((n, i) => {
    const ps = (n.net!.libp2p as any).services.pubsub
    ps.addEventListener('message', (e: any) => {
      if (e.detail.topic === `leither/mimei/${mid}`) mark(i, 'gossip')
      if (String(e.detail.topic).startsWith('leither/app/') && String(e.detail.topic).endsWith(`/u/${author}`)) mark(i, 'appMsg')
    })
    n.replication!.events.addEventListener('synced', (e: any) => e.detail.mid === mid && mark(i, 'installed'))
    const call = clients[i].call.bind(clients[i])
    clients[i].call = async (name: string, args: unknown[]) => {
      // The long poll's answer (a wait given) that names a version above the one the page had seen.
      if (name === 'MMLast' && args[3]) return call(name, args).then((r: any) => (Object.entries(r ?? {}).some(([m, v]) => typeof v === 'number' && v > ((args[2] as any)?.[m] ?? 0)) && mark(i, 'lastAnswer'), r))
      if (name !== 'MiMeiSync') return call(name, args)
      mark(i, 'syncStart')
      try {
        return await call(name, args)
      } finally {
        mark(i, 'syncEnd')
      }
    }
    const onPub = stores[i].onPub.bind(stores[i])
    stores[i].onPub = (ev: any) => (ev?.data?.kind === 'post' && mark(i, 'event'), onPub(ev))
    stores[i].on('post', async ({ author: a, id }: { author: string; id: string }) => {
      mark(i, 'post')
      if (await stores[i].getPost(a, id)) mark(i, 'readable')
    })
  })
  return {
    begin(n) {
      cur = { n, t0: Date.now() }
    },
    report() {
      for (const m of authorMarks) console.error('author', [...m].map(([k, v]) => `${k}${v}`).join(' '))
      const stages: Stage[] = ['gossip', 'installed', 'appMsg', 'event', 'lastAnswer', 'syncStart', 'syncEnd', 'post', 'readable']
      for (const s of stages) {
        const xs = marks.flatMap((byVer) => byVer.filter(Boolean).map((m) => m.get(s))).filter((x): x is number => x !== undefined)
        console.error(`${s.padEnd(10)} n=${String(xs.length).padStart(3)} p50 ${percentile(xs, 50)} ms p95 ${percentile(xs, 95)} ms max ${percentile(xs, 100)} ms`)
      }
      // Who started the sync that installed it: the page's MiMeiSync began before the gossip came?
      const rows = marks.flatMap((byVer) => byVer.filter(Boolean))
      const pageFirst = rows.filter((m) => (m.get('syncStart') ?? Infinity) < (m.get('gossip') ?? Infinity)).length
      console.error(`page sync started before the node's gossip: ${pageFirst}/${rows.length}`)
      for (const m of rows.slice(0, 40)) console.error(stages.map((s) => `${s}=${m.get(s) ?? '-'}`).join(' '))
    },
  }
}
