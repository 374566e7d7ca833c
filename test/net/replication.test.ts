// MiMei across real nodes on 127.0.0.1: publish, find through the DHT, sync, follow new versions,
// catch up after being offline, and refuse what hostile peers send.
import { describe, expect, test } from 'bun:test'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { callLocal, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { tempDir } from '../helpers/node.ts'
import { bunNoiseCrypto } from '../../runtime/net/crypto.ts'
import { encodeCbor } from '../../runtime/net/wire.ts'
import { BLOCK_PROTOCOL } from '../../runtime/net/blockproto.ts'
import { encodeRecord, signRecord, validateDhtRecord, verifyRecord } from '../../runtime/net/records.ts'
import { generateKeyPair } from '../../runtime/identity/index.ts'
import type { SyncResult } from '../../runtime/net/sync.ts'
import type { Deltas } from '../../runtime/net/deltas.ts'
import type { Libp2p } from '@libp2p/interface'
import { connected, gossipOnlyNodes, ownerSid as owner, synced } from '../helpers/replication.ts'

const node = gossipOnlyNodes()



/** A plain libp2p node speaking only what a test gives it: the hostile or lying peer. */
const bareNode = () =>
  createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise({ crypto: bunNoiseCrypto })],
    streamMuxers: [yamux()],
    services: { identify: identify() },
  })

/** An author node A and a node C that joined through it, with their owners' sessions. */
async function pair() {
  const a = await node()
  const c = await node({ bootstrap: [a.net!.addrs()[0]] })
  await connected(c, 1)
  return { a, c, sa: await owner(a), sc: await owner(c) }
}

async function dbMimei(k: TestKernel, sid: string, values: Record<string, unknown>) {
  const mid = (await callLocal(k, 'MMCreate', sid, 'notes', 'list', '', 2, 1)) as string
  const h = await callLocal(k, 'MMOpen', sid, mid, 'cur')
  for (const [key, v] of Object.entries(values)) await callLocal(k, 'Set', h, key, v)
  await callLocal(k, 'MMBackup', sid, mid, 'v1')
  return { mid, h }
}

describe('MiMei across three nodes', () => {
  test('C, knowing only B, finds A as provider, syncs, and follows new versions without asking', async () => {
    const a = await node()
    const b = await node({ bootstrap: [a.net!.addrs()[0]] })
    const c = await node({ bootstrap: [b.net!.addrs()[0]] })
    await Promise.all([connected(b, 2), connected(c, 1)])
    const [sa, sc] = [await owner(a), await owner(c)]
    const { mid, h } = await dbMimei(a, sa, { title: 'hello', big: 2n ** 70n, raw: new Uint8Array([1, 2, 3]) })
    const pub = (await callLocal(a, 'MiMeiPublish', sa, mid)) as { ver: number; dht: boolean }
    expect(pub.ver).toBe(1)

    const provs = (await callLocal(c, 'MiMeiFindProvs', sc, mid)) as { peer: string }[]
    expect(provs.map((p) => p.peer)).toContain(a.identity.peerId)
    const viaVar = (await callLocal(c, 'GetVar', sc, 'mmprovs', mid)) as { peer: string }[]
    expect(viaVar.map((p) => p.peer)).toContain(a.identity.peerId)
    const first = (await callLocal(c, 'MiMeiProvide', sc, mid)) as SyncResult
    expect(first).toMatchObject({ mid, ver: 1 })
    const hc = await callLocal(c, 'MMOpen', sc, mid, 'cur')
    expect(await callLocal(c, 'Get', hc, 'big')).toBe(2n ** 70n)
    expect(await callLocal(c, 'MMSum', sc, mid, 1)).toBe(await callLocal(a, 'MMSum', sa, mid, 1))

    // A backs up a new version; C has it without calling anything.
    const next = synced(c, mid, 2)
    await callLocal(a, 'Set', h, 'title', 'changed')
    await callLocal(a, 'MMBackup', sa, mid, 'v2')
    const second = await next
    expect(second.ver).toBe(2)
    // C still held version 1 unchanged, so only the changed key travelled (a database delta).
    expect(second.delta).toBe(true)
    const hc2 = await callLocal(c, 'MMOpen', sc, mid, 'cur')
    expect(await callLocal(c, 'Get', hc2, 'title')).toBe('changed')
    expect(await callLocal(c, 'MMSum', sc, mid, 2)).toBe(await callLocal(a, 'MMSum', sa, mid, 2))
    const shown = (await callLocal(c, 'MiMeiShow', sc, mid)) as { mode: string; local: { last: number }; network: { ver: number } }
    expect(shown).toMatchObject({ mode: 'provide', local: { last: 2 }, network: { ver: 2 } })
  })

  test('a provider offline during two new versions catches up when it returns', async () => {
    using cDir = tempDir()
    const a = await node()
    let c = await node({ bootstrap: [a.net!.addrs()[0]] }, cDir)
    await connected(c, 1)
    const [sa, sc] = [await owner(a), await owner(c)]
    const { mid, h } = await dbMimei(a, sa, { n: 1 })
    await callLocal(a, 'MiMeiPublish', sa, mid)
    await callLocal(c, 'MiMeiProvide', sc, mid)
    await c.stop()
    for (const n of [2, 3]) {
      await callLocal(a, 'Set', h, 'n', n)
      await callLocal(a, 'MMBackup', sa, mid, `v${n}`)
    }
    c = await node({ bootstrap: [a.net!.addrs()[0]] }, cDir)
    // By delta normally; by blocks when the delta request fails under load (both are correct ways
    // to catch up; the delta path has its own test above). What matters: version 3, equal content.
    expect((await synced(c, mid, 3)).ver).toBe(3)
    const sc2 = await owner(c)
    const hc = await callLocal(c, 'MMOpen', sc2, mid, 'cur')
    expect(await callLocal(c, 'Get', hc, 'n')).toBe(3)
    expect(await callLocal(c, 'MMSum', sc2, mid, 3)).toBe(await callLocal(a, 'MMSum', sa, mid, 3))
  })

  test('an interrupted sync resumes: blocks already here are not fetched again', async () => {
    const { a, c, sa, sc } = await pair()
    const values: Record<string, string> = {}
    for (let i = 0; i < 400; i++) values[`k${i}`] = `${i}`.repeat(2000)
    const { mid } = await dbMimei(a, sa, values)
    await callLocal(a, 'MiMeiPublish', sa, mid)
    const whole = (await callLocal(c, 'MiMeiSync', sc, mid)) as SyncResult
    expect(whole.blocks).toBeGreaterThan(2)
    // Forget the version but keep its blocks, as after a crash in the middle: nothing is refetched.
    c.mimei.db.query('DELETE FROM mimei_versions').run()
    c.mimei.db.query('UPDATE mimei SET last = NULL').run()
    const again = (await callLocal(c, 'MiMeiSync', sc, mid)) as SyncResult
    expect(again.blocks).toBe(0)
    expect(again.reused).toBe(whole.blocks)
    expect(await callLocal(c, 'MiMeiSyncStatus', sc, mid)).toMatchObject({ state: 'done', ver: 1 })
  })
})

describe('database deltas', () => {
  test('a replica whose cur was changed locally syncs by blocks, not by delta', async () => {
    const { a, c, sa, sc } = await pair()
    const { mid, h } = await dbMimei(a, sa, { k: 'one' })
    await callLocal(a, 'MiMeiPublish', sa, mid)
    await callLocal(c, 'MiMeiProvide', sc, mid)
    // The replica's own change makes its cur differ from version 1: a delta could not be checked.
    const hc = await callLocal(c, 'MMOpen', sc, mid, 'cur')
    await callLocal(c, 'Set', hc, 'local', 'edit')
    const next = synced(c, mid, 2)
    await callLocal(a, 'Set', h, 'k', 'two')
    await callLocal(a, 'MMBackup', sa, mid, 'v2')
    const r = await next
    expect(r.delta).toBeFalsy()
    expect(r.blocks).toBeGreaterThan(0)
    expect(await callLocal(c, 'MMSum', sc, mid, 2)).toBe(await callLocal(a, 'MMSum', sa, mid, 2))
    const hc2 = await callLocal(c, 'MMOpen', sc, mid, 'cur')
    expect(await callLocal(c, 'Get', hc2, 'k')).toBe('two')
  })
})

describe('hostile deltas', () => {
  test('a delta that does not lead to the signed version is refused and leaves the data as it was', async () => {
    const { a, c, sa, sc } = await pair()
    const { mid, h } = await dbMimei(a, sa, { k: 'one' })
    await callLocal(a, 'MiMeiPublish', sa, mid)
    await callLocal(c, 'MiMeiProvide', sc, mid)
    await callLocal(c, 'MiMeiUnprovide', sc, mid)
    await callLocal(a, 'Set', h, 'k', 'two')
    await callLocal(a, 'MMBackup', sa, mid, 'v2')
    const v2 = a.replication!.recordFor(mid, 2)!
    const liar = await bareNode()
    await liar.handle('/leither/mimei/1.0.0', async (stream) => {
      const io = lpStream(stream)
      await io.read()
      await io.write(encodeCbor({ records: [['k', 1, encodeCbor('forged')]], deleted: [] }))
      await stream.close()
    })
    try {
      await c.net!.libp2p.dial(liar.getMultiaddrs()[0])
      const { deltas } = c.replication as unknown as { deltas: Deltas }
      const libp2p = c.net!.libp2p as unknown as Libp2p
      // Asked of a lying peer, and carried in an announcement: neither is applied.
      const forged = { since: a.replication!.recordFor(mid, 1)!.seq, records: [['k', 1, encodeCbor('forged')]], deleted: [] }
      expect(await deltas.sync(libp2p, v2, [liar.peerId], AbortSignal.timeout(10_000))).toBeUndefined()
      expect(await deltas.sync(libp2p, v2, [], AbortSignal.timeout(10_000), forged)).toBeUndefined()
      const hc = await callLocal(c, 'MMOpen', sc, mid, 'cur')
      expect(await callLocal(c, 'Get', hc, 'k')).toBe('one')
      expect(await callLocal(c, 'MMSum', sc, mid, 'cur')).toBe(await callLocal(a, 'MMSum', sa, mid, 1))
    } finally {
      await liar.stop()
    }
  })
})

describe('hostile peers', () => {
  test('malformed, oversized, truncated and forged messages are refused; the node keeps serving', async () => {
    const a = await node()
    const sa = await owner(a)
    const { mid } = await dbMimei(a, sa, { k: 'v' })
    await callLocal(a, 'MiMeiPublish', sa, mid)
    const evil = await bareNode()
    try {
      await evil.dial(multiaddr(a.net!.addrs()[0]))
      /** Sends raw frames, then reads until the node closes or resets the stream: bytes answered. */
      const send = async (protocol: string, frames: Uint8Array[]) => {
        const s = await evil.dialProtocol(a.net!.libp2p.peerId, protocol)
        for (const f of frames) s.send(f)
        await s.close({ signal: AbortSignal.timeout(2000) }).catch(() => {})
        let got = 0
        try {
          for await (const chunk of s) got += chunk.byteLength
        } catch {}
        return got
      }
      const lp = (b: Uint8Array) => {
        const out = new Uint8Array(b.length + 5)
        let n = b.length
        let i = 0
        do {
          out[i++] = (n & 0x7f) | (n > 0x7f ? 0x80 : 0)
          n >>>= 7
        } while (n > 0)
        out.set(b, i)
        return out.subarray(0, i + b.length)
      }
      for (const protocol of [BLOCK_PROTOCOL.id, '/leither/mimei/1.0.0']) {
        expect(await send(protocol, [lp(new TextEncoder().encode('not cbor at all'))])).toBe(0) // malformed
        expect(await send(protocol, [lp(encodeCbor({ unexpected: 1 }))])).toBe(0) // wrong schema
        expect(await send(protocol, [Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f)])).toBe(0) // oversized length
        expect(await send(protocol, [lp(encodeCbor({ mid })).subarray(0, 5)])).toBe(0) // truncated
      }
      // A forged record (signed by someone who is not the author) is refused by validation.
      const forger = generateKeyPair()
      const genuine = a.replication!.recordFor(mid)!
      const forged = { ...signRecord(forger, { mid, app: 'notes', ext: 'list', mark: '', type: 2, ver: 99, cid: genuine.cid, seq: 1, size: 1, created: 1, refs: [] }) }
      const key = new TextEncoder().encode(`/leither-mimei/${mid}`)
      expect(validateDhtRecord(key, encodeRecord(forged))).rejects.toThrow('does not belong to its author')
      await validateDhtRecord(key, encodeRecord(genuine))
      expect(() => verifyRecord({ ...genuine, ver: genuine.ver + 1 })).toThrow('signature is invalid')
      // Still serving honest peers.
      const c = await node({ bootstrap: [a.net!.addrs()[0]] })
      await connected(c, 1)
      const sc = await owner(c)
      expect(((await callLocal(c, 'MiMeiSync', sc, mid)) as SyncResult).ver).toBe(1)
    } finally {
      await evil.stop()
    }
    void lpStream
  })

  test('a provider that sends wrong bytes is caught; the sync gets the blocks from an honest one', async () => {
    const { a, c, sa, sc } = await pair()
    const { mid } = await dbMimei(a, sa, { k: 'v'.repeat(5000) })
    await callLocal(a, 'MiMeiPublish', sa, mid)
    // A liar answers every block request with bytes that do not match.
    const liar = await bareNode()
    await liar.handle(BLOCK_PROTOCOL.id, async (stream) => {
      const io = lpStream(stream)
      const req = (await import('cbor-x')).decode((await io.read()).subarray()) as { cids: string[] }
      // A block frame (tag 0, then the bytes) per CID asked.
      for (const _ of req.cids) await io.write(new Uint8Array([0, 6, 6, 6]))
      await stream.close()
    })
    try {
      await c.net!.libp2p.dial(liar.getMultiaddrs()[0])
      const job = c.replication!.startSync(mid, { from: [liar.peerId] })
      const r = await job.done
      expect(r.ver).toBe(1)
      const hc = await callLocal(c, 'MMOpen', sc, mid, 'cur')
      expect(await callLocal(c, 'Get', hc, 'k')).toBe('v'.repeat(5000))
    } finally {
      await liar.stop()
    }
  })
})
