// MiMei across twenty nodes on one host: a new version reaches all nineteen providers by gossip
// alone (polling off). Past ten peers on one IP, gossipsub's peer scoring graylisted every peer,
// so no mesh formed and the author's announcement went to nobody. A small database version then
// travels inside its announcement: with the author answering no requests once it has announced
// (a phone that goes offline right after posting), every provider still installs it. Before
// deltas rode in announcements, all nineteen asked the author for the delta and failed.
import { describe, expect, test } from 'bun:test'
import { bootNetwork, link } from '../helpers/network.ts'
import { callLocal, type TestKernel } from '../helpers/kernel.ts'
import { gossipOnly, ownerSid as owner, synced } from '../helpers/replication.ts'
import { MIMEI_PROTOCOL } from '../../runtime/net/mimeiproto.ts'
import { BLOCK_PROTOCOL } from '../../runtime/net/blockproto.ts'

/** A correctness bound, well under the 30 s poll (which is off): generous for a loaded machine. */
const DEADLINE_MS = 15_000

type Router = { score: { score(id: string): number }; peers: Map<string, unknown> }
const routerOf = (k: TestKernel) => k.net!.libp2p.services.pubsub as unknown as Router

describe('twenty nodes', () => {
  test('a new version reaches all nineteen providers by gossip', async () => {
    // A chain (node i links to i-1) with every third node also linked to the author; the DHT's
    // start-up walks then connect most nodes to most others, as a small real network does.
    await using net = await bootNetwork(20, { topology: 'chain' })
    const [author, ...others] = net.nodes
    for (let i = 3; i < net.nodes.length; i += 3) await link(net.nodes[i], author)
    gossipOnly(...net.nodes)

    const sa = await owner(author)
    const mid = (await callLocal(author, 'MMCreate', sa, 'feed', 'posts', '', 2, 1)) as string
    const h = await callLocal(author, 'MMOpen', sa, mid, 'cur')
    await callLocal(author, 'Set', h, 'post', 'first')
    await callLocal(author, 'MMBackup', sa, mid, '')
    await callLocal(author, 'MiMeiPublish', sa, mid)
    const sids = await Promise.all(others.map(owner))
    await Promise.all(others.map((k, i) => callLocal(k, 'MiMeiProvide', sids[i], mid)))

    const arrivals = others.map((k, i) =>
      synced(k, mid, 2, DEADLINE_MS).then(
        () => undefined,
        () => i + 1,
      ),
    )
    await callLocal(author, 'Set', h, 'post', 'second')
    await callLocal(author, 'MMBackup', sa, mid, '')
    const missed = (await Promise.all(arrivals)).filter((i) => i !== undefined)
    expect(missed).toEqual([])
    for (const [i, k] of others.entries()) {
      const hk = await callLocal(k, 'MMOpen', sids[i], mid, 'cur')
      expect(await callLocal(k, 'Get', hk, 'post')).toBe('second')
    }
    // Honest peers on one host never score below zero (below it gossipsub stops talking to them).
    for (const k of net.nodes) {
      const router = routerOf(k)
      expect([...router.peers.keys()].filter((id) => router.score.score(id) < 0)).toEqual([])
    }

    // From here on the author answers nobody's requests (records, deltas, blocks); it only gossips.
    await author.net!.libp2p.unhandle([MIMEI_PROTOCOL.id, BLOCK_PROTOCOL.id])
    const third = others.map((k, i) => synced(k, mid, 3, DEADLINE_MS).then(() => undefined, () => i + 1))
    await callLocal(author, 'Hset', h, 'likes', 'bob', 1)
    await callLocal(author, 'Set', h, 'post', 'third')
    await callLocal(author, 'MMBackup', sa, mid, '')
    expect((await Promise.all(third)).filter((i) => i !== undefined)).toEqual([])
    for (const [i, k] of others.entries()) {
      const hk = await callLocal(k, 'MMOpen', sids[i], mid, 'cur')
      expect(await callLocal(k, 'Get', hk, 'post')).toBe('third')
      expect(await callLocal(k, 'Hget', hk, 'likes', 'bob')).toBe(1)
    }
  }, 300_000)
})
