// A replica back from a crash, on real nodes: a peer that speaks /leither/mimei but never answers
// does not hold its catch-up back; the newest version its first honest peer names is installed.
import { expect, test } from 'bun:test'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { callLocal } from '../helpers/kernel.ts'
import { tempDir } from '../helpers/node.ts'
import { connected, gossipOnlyNodes, ownerSid as owner, synced } from '../helpers/replication.ts'
import { bunNoiseCrypto } from '../../runtime/net/crypto.ts'
import { MIMEI_PROTOCOL } from '../../runtime/net/mimeiproto.ts'

const node = gossipOnlyNodes()

test('a returning replica connected to a peer that never answers still installs the newest version its honest peer has', async () => {
  using cDir = tempDir()
  const a = await node()
  let c = await node({ bootstrap: [a.net!.addrs()[0]] }, cDir)
  await connected(c, 1)
  const [sa, sc] = [await owner(a), await owner(c)]
  const mid = (await callLocal(a, 'MMCreate', sa, 'notes', 'list', '', 2, 1)) as string
  const h = await callLocal(a, 'MMOpen', sa, mid, 'cur')
  await callLocal(a, 'Set', h, 'n', 1)
  await callLocal(a, 'MMBackup', sa, mid, '')
  await callLocal(a, 'MiMeiPublish', sa, mid)
  await callLocal(c, 'MiMeiProvide', sc, mid)
  await c.stop()
  for (const n of [2, 3]) {
    await callLocal(a, 'Set', h, 'n', n)
    await callLocal(a, 'MMBackup', sa, mid, '')
  }

  // A peer that takes every /leither/mimei request and never answers (a hung or hostile node).
  const mute = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise({ crypto: bunNoiseCrypto })],
    streamMuxers: [yamux()],
    services: { identify: identify() },
  })
  const held: unknown[] = []
  const release = Promise.withResolvers<void>()
  const twoAsks = Promise.withResolvers<void>()
  await mute.handle(MIMEI_PROTOCOL.id, async (stream) => {
    if (held.push(stream) === 2) twoAsks.resolve()
    await release.promise
  })
  try {
    // C comes back connected to the mute peer only: asked when it connects, and by the catch-up.
    c = await node({}, cDir)
    await c.net!.libp2p.dial(mute.getMultiaddrs()[0])
    await twoAsks.promise
    // Then it reaches the author, which names version 3.
    await c.net!.libp2p.dial(a.net!.libp2p.getMultiaddrs()[0])
    // Well under the protocol's 30 s timeout a mute peer could hold a request for.
    expect((await synced(c, mid, 3, 15_000)).ver).toBe(3)
    expect(held.length).toBeGreaterThan(0)
    const sc2 = await owner(c)
    expect(await callLocal(c, 'MMSum', sc2, mid, 3)).toBe(await callLocal(a, 'MMSum', sa, mid, 3))
  } finally {
    release.resolve()
    await mute.stop()
  }
})
