// MiMei across ten nodes: a new version reaches every provider, and a 50 MB file tree syncs with
// an equal MMSum (its 256 KiB blocks cross /leither/block, far past the 64 KB Noise trap).
import { describe, expect, test } from 'bun:test'
import { bootNetwork, waitForRoutingTable, peerIdOf } from '../helpers/network.ts'
import { callLocal, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import type { SyncResult } from '../../runtime/net/sync.ts'
import { gossipOnly, ownerSid as owner, synced } from '../helpers/replication.ts'

describe('ten nodes', () => {
  test('a new version reaches all nine providers; a 50 MB file syncs with an equal MMSum', async () => {
    await using net = await bootNetwork(10, { topology: 'star' })
    const [author, ...others] = net.nodes
    // Polling off: version 2 must reach the nine providers by gossip.
    gossipOnly(...net.nodes)
    for (const k of others) await waitForRoutingTable(author, peerIdOf(k))
    const sa = await owner(author)

    // A database MiMei that every other node provides.
    const mid = (await callLocal(author, 'MMCreate', sa, 'feed', 'posts', '', 2, 1)) as string
    const h = await callLocal(author, 'MMOpen', sa, mid, 'cur')
    await callLocal(author, 'Set', h, 'post', 'first')
    await callLocal(author, 'MMBackup', sa, mid, '')
    await callLocal(author, 'MiMeiPublish', sa, mid)
    const sids = await Promise.all(others.map(owner))
    await Promise.all(others.map((k, i) => callLocal(k, 'MiMeiProvide', sids[i], mid)))
    const arrivals = others.map((k) => synced(k, mid, 2))
    await callLocal(author, 'Set', h, 'post', 'second')
    await callLocal(author, 'MMBackup', sa, mid, '')
    const results = await Promise.all(arrivals)
    expect(results.every((r) => r.ver === 2)).toBe(true)
    const sum = await callLocal(author, 'MMSum', sa, mid, 2)
    for (const [i, k] of others.entries()) {
      const hk = await callLocal(k, 'MMOpen', sids[i], mid, 'cur')
      expect(await callLocal(k, 'Get', hk, 'post')).toBe('second')
      expect(await callLocal(k, 'MMSum', sids[i], mid, 2)).toBe(sum)
    }

    // A 50 MB file tree, written in 1 MiB calls, synced by one provider.
    const fmid = (await callLocal(author, 'MMCreate', sa, 'album', 'raw', '', 1, 1)) as string
    const fh = await callLocal(author, 'MMOpen', sa, fmid, 'cur')
    const fsid = await callLocal(author, 'MFOpenByPath', sa, fh, 'video.bin', 0x42)
    // Random bytes, so no two 256 KiB blocks are alike and all 50 MB must travel.
    const chunk = new Uint8Array(1024 * 1024)
    for (let i = 0; i < 50; i++) {
      for (let at = 0; at < chunk.length; at += 65536) crypto.getRandomValues(chunk.subarray(at, at + 65536))
      await callLocal(author, 'MFSetData', fsid, chunk, i * chunk.length)
    }
    await callLocal(author, 'MFClose', fsid)
    await callLocal(author, 'MMBackup', sa, fmid, '')
    await callLocal(author, 'MiMeiPublish', sa, fmid)
    const far = others.at(-1)!
    const sf = sids.at(-1)!
    const got = (await callLocal(far, 'MiMeiSync', sf, fmid)) as SyncResult
    expect(got.bytes).toBeGreaterThan(50 * 1024 * 1024)
    expect(await callLocal(far, 'MMSum', sf, fmid, 1)).toBe(await callLocal(author, 'MMSum', sa, fmid, 1))
    const rh = await callLocal(far, 'MMOpen', sf, fmid, 'cur')
    const rf = await callLocal(far, 'MFOpenByPath', sf, rh, 'video.bin', 0)
    const tail = (await callLocal(far, 'MFGetData', rf, -1024 * 1024, 1024 * 1024)) as Uint8Array
    expect(Buffer.compare(Buffer.from(tail), Buffer.from(chunk))).toBe(0)
  }, 120_000)
})
