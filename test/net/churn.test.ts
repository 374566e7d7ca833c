// Churn between processes: a provider killed with SIGKILL while its author keeps backing up
// versions comes back on its data dir and port, holds every version it held before with the same
// CID, and installs the newest one by its catch-up and gossip alone (polling off).
import { describe, expect, test } from 'bun:test'
import { connect, type NodeSession } from '../../runtime/cli/session.ts'
import type { Parsed } from '../../runtime/cli/args.ts'
import { callRemote } from '../../runtime/rpc/client.ts'
import { startNode, tempDir, type RunningNode } from '../helpers/node.ts'
import { GOSSIP_ONLY_ENV } from '../helpers/replication.ts'

/** A correctness bound for the return, well under the poll (off): generous for a loaded machine. */
const DEADLINE_MS = 60_000

interface Proc {
  node: RunningNode
  s: NodeSession
}
type Versions = { last: number | null; versions: { ver: number; cid: string }[] }

async function start(dir: string, extra: string[] = []): Promise<Proc> {
  const node = await startNode(['--data', dir, '--port', '0', '--host', '127.0.0.1', ...extra], { env: GOSSIP_ONLY_ENV, timeoutMs: 60_000 })
  const s = connect({ flags: { data: dir, node: node.url }, args: [] } as unknown as Parsed)
  await s.login()
  return { node, s }
}
const tcpAddr = async (p: Proc) => ((await p.s.call('GetVar', [p.s.sid, 'nodeaddrs'])) as string[]).find((a) => !a.includes('/ws') && !a.includes('p2p-circuit'))!
const versionsOf = (p: Proc, mid: string) => p.s.call('GetVar', [p.s.sid, 'mmversions', mid]) as Promise<Versions>

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + DEADLINE_MS; Date.now() < deadline; await Bun.sleep(100)) if (await check()) return
  throw new Error(`timed out waiting for ${what}`)
}

describe('churn', () => {
  test('a provider killed while versions keep coming returns with everything it held and the newest version', async () => {
    using authorDir = tempDir()
    using providerDir = tempDir()
    using otherDir = tempDir()
    const procs: Proc[] = []
    let publishing = true
    try {
      const author = await start(authorDir)
      procs.push(author)
      const boot = ['--bootstrap', await tcpAddr(author)]
      const provider = await start(providerDir, boot)
      const other = await start(otherDir, boot)
      procs.push(provider, other)
      const port = Number((await tcpAddr(provider)).split('/tcp/')[1].split('/')[0])

      const sa = author.s.sid
      const mid = (await author.s.call('MMCreate', [sa, 'feed', 'churn', '', 2, 1])) as string
      const h = await author.s.call('MMOpen', [sa, mid, 'cur'])
      await author.s.call('Set', [h, 'n', 0])
      await author.s.call('MMBackup', [sa, mid, ''])
      await author.s.call('MiMeiPublish', [sa, mid])
      for (const p of [provider, other]) await callRemote(p.node.url, 'MiMeiProvide', [p.s.sid, mid], 120_000)

      let newest = 1
      const publisher = (async () => {
        for (let i = 1; publishing; i++) {
          await author.s.call('Set', [h, 'n', i])
          newest = (await author.s.call('MMBackup', [sa, mid, ''])) as number
          await Bun.sleep(100)
        }
      })()
      await until('the provider at version 3', async () => ((await versionsOf(provider, mid)).last ?? 0) >= 3)
      const before = await versionsOf(provider, mid)
      await provider.s.close()
      await provider.node.stop('SIGKILL')
      // Versions the provider misses while it is down.
      const downAt = newest
      await until('two versions more while it is down', async () => newest >= downAt + 2)

      const back = await start(providerDir, [...boot, '--p2p-port', String(port)])
      procs[1] = back
      const want = newest
      await until(`the returned provider at version ${want}`, async () => ((await versionsOf(back, mid)).last ?? 0) >= want)
      publishing = false
      await publisher

      const after = await versionsOf(back, mid)
      for (const v of before.versions) expect(after.versions).toContainEqual(expect.objectContaining({ ver: v.ver, cid: v.cid }))
      const last = after.last!
      expect(await back.s.call('MMSum', [back.s.sid, mid, last])).toBe(await author.s.call('MMSum', [sa, mid, last]))
      const hb = await back.s.call('MMOpen', [back.s.sid, mid, last])
      expect(await back.s.call('Get', [hb, 'n'])).toBe(await author.s.call('Get', [await author.s.call('MMOpen', [sa, mid, last]), 'n']))
    } finally {
      publishing = false
      for (const p of procs) {
        await p.s.close().catch(() => {})
        await p.node.stop('SIGKILL')
      }
    }
  }, 300_000)
})
