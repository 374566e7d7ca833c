// Defect 4(d): a database delta is collected in memory before it is checked, so its total size is
// bounded: a hostile peer streaming far more than the version could hold is cut off, and the
// replica falls back to blocks with its data untouched.
import { afterEach, expect, test } from 'bun:test'
import type { Libp2p } from 'libp2p'
import { signRecord, type VersionRecord } from '../../runtime/net/records.ts'
import type { Deltas } from '../../runtime/net/deltas.ts'
import { bootTest, callLocal, ownerKey, type TestKernel } from '../helpers/kernel.ts'
import { ownerSid } from '../helpers/replication.ts'
import { bareNode, serveHostile } from './hostile-peer.ts'

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()))
})


test('a delta far larger than its version is cut off; the replica keeps its data', async () => {
  const c: TestKernel = await bootTest({ p2p: true })
  cleanup.push(() => c.stop())
  const sc = await ownerSid(c)
  // A small database at version 1, published (so its signed record is here): the base of a delta.
  const mid = (await callLocal(c, 'MMCreate', sc, 'notes', 'list', '', 2, 0)) as string
  const h = await callLocal(c, 'MMOpen', sc, mid, 'cur')
  await callLocal(c, 'Set', h, 'k', 'one')
  await callLocal(c, 'MMBackup', sc, mid, 'v1')
  await callLocal(c, 'MiMeiPublish', sc, mid)
  const base = c.replication!.recordFor(mid, 1)!
  // Version 2 as its author signed it: a few hundred bytes.
  const v2 = signRecord(ownerKey(c), { mid, app: 'notes', ext: 'list', mark: '', type: 2, ver: 2, cid: base.cid, seq: base.seq + 1, size: 300, created: base.created, refs: [] })

  // The liar answers the delta request with 40 messages of 1.5 MiB each: 60 MiB for a 300-byte version.
  const big = new Uint8Array(1536 * 1024)
  const evil: Libp2p = await bareNode()
  cleanup.push(async () => evil.stop())
  const parts = 40
  const stats = await serveHostile(evil, {
    delta: function* () {
      for (let i = 0; i < parts; i++) yield { records: [[`k${i}`, 1, big]], deleted: [] }
    },
  })
  await c.net!.libp2p.dial(evil.getMultiaddrs()[0])
  const { deltas } = c.replication as unknown as { deltas: Deltas }
  expect(await deltas.sync(c.net!.libp2p as never, v2, [evil.peerId], AbortSignal.timeout(30_000))).toBeUndefined()
  // Cut off after the first messages, not read to the end.
  expect(stats.sent).toBeLessThan(parts / 2)
  expect(await callLocal(c, 'Get', h, 'k')).toBe('one')
  expect(await callLocal(c, 'MMSum', sc, mid, 'cur')).toBe(base.cid)
})
