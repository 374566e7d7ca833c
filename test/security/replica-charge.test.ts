// Defect 3, replicas: a synced copy is stored data too. It is charged to whoever asked for it,
// and refused before any of it is fetched when its signed size does not fit their quota.
import { afterAll, expect, test } from 'bun:test'
import { createUserKey } from '../../runtime/identity/keystore.ts'
import { bootTest, callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { ownerSid } from '../helpers/replication.ts'
import { waitForPeer } from '../helpers/network.ts'

const nodes: TestKernel[] = []
afterAll(() => Promise.all(nodes.map((n) => n.stop())))
const KiB = 1024

test("a user's sync is charged to them: past their quota it is refused before a block is fetched", async () => {
  const a = await bootTest({ p2p: true })
  nodes.push(a)
  const b = await bootTest({ p2p: true, storageOpen: false, bootstrap: [a.net!.addrs()[0]] })
  nodes.push(b)
  // Carol's key lives on A (it signs her version records there); she logs in on both nodes.
  const carol = createUserKey(a.dataDir, 'carol')
  const onA = ((await callLocal(a, 'Login', loginPassport(a, carol))) as { sid: string }).sid
  const mid = (await callLocal(a, 'MMCreate', onA, 'notes', 'db', 'm', 2)) as string
  const h = (await callLocal(a, 'MMOpen', onA, mid)) as string
  for (let i = 0; i < 6; i++) await callLocal(a, 'Set', h, `k${i}`, new Uint8Array(100 * KiB).fill(i + 1))
  await callLocal(a, 'MMBackup', onA, mid)
  await callLocal(a, 'MiMeiPublish', onA, mid)
  const size = a.mimei.versionInfo(mid, 1).size
  expect(size).toBeGreaterThan(600 * KiB)

  // B found A through its bootstrap list; wait for the connection (no sleeps) before asking.
  await waitForPeer(b, a.net!.libp2p.peerId.toString())
  const bOwner = await ownerSid(b)
  const usageOn = async (user: string) =>
    ((await callLocal(b, 'UserList', bOwner)) as { userId: string; usage: { versions: number; cur: number } }[]).find((u) => u.userId === user)!.usage
  // The owner already stores B's bundled apps; the sync must add nothing to that.
  const ownerBefore = await usageOn(b.config.owner)
  const onB = ((await callLocal(b, 'Login', loginPassport(b, carol))) as { sid: string }).sid
  // Not admitted: she cannot make B store anything.
  expect(await failure(callLocal(b, 'MiMeiSync', onB, mid))).toContain(`ask the owner to run: leither user admit ${carol.id}`)
  // Admitted with 1 MiB: the version and the cur it becomes do not fit.
  await callLocal(b, 'UserAdmit', bOwner, carol.id, 1024 * KiB)
  const blocksBefore = (b.store.db.query('SELECT count(*) AS n FROM blocks').get() as { n: number }).n
  expect(await failure(callLocal(b, 'MiMeiSync', onB, mid))).toStartWith(`QuotaExceeded: user ${carol.id} would store`)
  expect((b.store.db.query('SELECT count(*) AS n FROM blocks').get() as { n: number }).n).toBe(blocksBefore)
  // With room, it syncs and is hers to pay for.
  await callLocal(b, 'UserAdmit', bOwner, carol.id, 4096 * KiB)
  expect(await callLocal(b, 'MiMeiSync', onB, mid)).toMatchObject({ mid, ver: 1 })
  expect(await usageOn(carol.id)).toMatchObject({ versions: size })
  expect(await usageOn(b.config.owner)).toEqual(ownerBefore)
})
