// The DHT side of announcing versions on real nodes: versions backed up in a burst do not each
// start their own DHT put (one in flight per MiMei, the newest put next), the MiMei's provider key
// is not provided again for every version, and the DHT ends up with the newest record.
import { expect, test } from 'bun:test'
import { callLocal, type TestKernel } from '../helpers/kernel.ts'
import { connected, gossipOnlyNodes, ownerSid as owner, synced } from '../helpers/replication.ts'
import { decodeRecord, providerCid, recordKey } from '../../runtime/net/records.ts'

const node = gossipOnlyNodes()

/** Counts the DHT puts and provides `k` starts (the real ones still run), and the most puts in flight at once. */
function watchDht(k: TestKernel, midKey: string) {
  const routing = k.net!.libp2p.contentRouting
  const put = routing.put.bind(routing)
  const provide = routing.provide.bind(routing)
  const seen = { puts: 0, inFlight: 0, maxInFlight: 0, midProvides: 0 }
  routing.put = async (...args: Parameters<typeof put>) => {
    seen.puts++
    seen.maxInFlight = Math.max(seen.maxInFlight, ++seen.inFlight)
    try {
      return await put(...args)
    } finally {
      seen.inFlight--
    }
  }
  routing.provide = async (...args: Parameters<typeof provide>) => {
    if (args[0].toString() === midKey) seen.midProvides++
    return provide(...args)
  }
  return seen
}

test('versions backed up in a burst: one DHT put in flight per MiMei, no provider key per version, the newest record in the DHT', async () => {
  const a = await node()
  const b = await node({ bootstrap: [a.net!.addrs()[0]] })
  const c = await node({ bootstrap: [a.net!.addrs()[0]] })
  await Promise.all([connected(a, 2), connected(b, 1), connected(c, 1)])
  const [sa, sc] = [await owner(a), await owner(c)]
  const mid = (await callLocal(a, 'MMCreate', sa, 'notes', 'list', '', 2, 1)) as string
  const h = await callLocal(a, 'MMOpen', sa, mid, 'cur')
  await callLocal(a, 'Set', h, 'n', 0)
  await callLocal(a, 'MMBackup', sa, mid, '')
  expect(((await callLocal(a, 'MiMeiPublish', sa, mid)) as { dht: boolean }).dht).toBe(true)
  await callLocal(c, 'MiMeiProvide', sc, mid)
  void b

  const seen = watchDht(a, providerCid('mimei', mid).toString())
  const last = synced(c, mid, 11)
  for (let n = 1; n <= 10; n++) {
    await callLocal(a, 'Set', h, 'n', n)
    await callLocal(a, 'MMBackup', sa, mid, '')
  }
  // Followers hear every version by gossip at once, whatever the DHT is doing.
  expect((await last).ver).toBe(11)
  await a.replication!.dhtSettled(mid)
  expect(seen.maxInFlight).toBe(1)
  expect(seen.puts).toBeLessThan(10)
  expect(seen.midProvides).toBe(0)
  const held = decodeRecord(await c.net!.libp2p.contentRouting.get(recordKey(mid), { signal: AbortSignal.timeout(10_000) }))
  expect(held.ver).toBe(11)
})
