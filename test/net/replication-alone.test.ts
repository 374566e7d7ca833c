// A replica whose only connections are to peers that do not follow the MiMei (a hub providing
// nothing) hears no announcement: gossipsub forwards a topic only through peers subscribed to it.
// It finds the MiMei's providers in the DHT and connects to one, so the next version reaches it
// by gossip (polling off). Before, nothing looked: a replica that had lost (or never reached) the
// author stayed alone until the author's own DHT traffic happened to dial it.
import { describe, expect, test } from 'bun:test'
import { bootNetwork, peerIdOf, unlink, until } from '../helpers/network.ts'
import { callLocal } from '../helpers/kernel.ts'
import { gossipOnly, ownerSid as owner, synced } from '../helpers/replication.ts'
import { topicOf } from '../../runtime/net/following.ts'

/** A correctness bound, well under the 30 s poll (which is off): generous for a loaded machine. */
const DEADLINE_MS = 20_000

describe('a replica alone behind a hub', () => {
  test('finds the providers of a MiMei nobody around it follows and gets the next version by gossip', async () => {
    // H (no user, provides nothing), A (the author) and F (the replica), A and F linked only to H.
    await using net = await bootNetwork(3, { topology: 'star', waitForDht: true })
    const [h, a, f] = net.nodes
    gossipOnly(...net.nodes)
    const sa = await owner(a)
    const mid = (await callLocal(a, 'MMCreate', sa, 'feed', 'posts', '', 2, 1)) as string
    const ha = await callLocal(a, 'MMOpen', sa, mid, 'cur')
    await callLocal(a, 'Set', ha, 'post', 'first')
    await callLocal(a, 'MMBackup', sa, mid, '')
    await callLocal(a, 'MiMeiPublish', sa, mid)
    await a.replication!.dhtSettled(mid)
    const sf = await owner(f)
    await callLocal(f, 'MiMeiProvide', sf, mid)
    // F's provider announcement walks the DHT, which in a network this small reaches A: it ends first.
    await f.replication!.providerSettled(mid)
    // Whatever F learned of A while syncing is undone: F is left with the hub, which does not follow.
    await unlink(a, f)
    const fp = f.net!.libp2p.services.pubsub
    expect(fp.getSubscribers(topicOf(mid))).toEqual([])

    // Nothing A does tells F (A's DHT puts would dial F): F finds a peer that follows the MiMei by itself.
    await until(fp, ['subscription-change'], () => (fp.getSubscribers(topicOf(mid)).some((p) => p.toString() === peerIdOf(a)) || undefined), 'F to see the author subscribed', DEADLINE_MS)
    const second = synced(f, mid, 2, DEADLINE_MS)
    await callLocal(a, 'Set', ha, 'post', 'second')
    await callLocal(a, 'MMBackup', sa, mid, '')
    expect((await second).ver).toBe(2)
    const hf = await callLocal(f, 'MMOpen', sf, mid, 'cur')
    expect(await callLocal(f, 'Get', hf, 'post')).toBe('second')
    // The hub followed nothing throughout: the version came straight from A's announcement.
    expect(h.net!.libp2p.services.pubsub.getTopics()).not.toContain(topicOf(mid))
  }, 120_000)
})
