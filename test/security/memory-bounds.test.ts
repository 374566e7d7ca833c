// Defect 4 (a) and (c): opening old versions and queuing transaction writes used to take memory
// without bound. Copies of a version are now shared and capped; queued writes are capped.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { generateKeyPair } from '../../runtime/identity/index.ts'
import { MAX_TX_BYTES, MAX_TX_OPS } from '../../syscalls/db.ts'
import { bootTest, callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'

let node: TestKernel
let alice: string
const login = async () => ((await callLocal(node, 'Login', loginPassport(node, generateKeyPair()))) as { sid: string }).sid

beforeAll(async () => {
  node = await bootTest()
  alice = await login()
})
afterAll(() => node.stop())

/** A public database with `versions` numbered versions of about `kib` KiB each. */
async function publicDb(versions: number, kib: number) {
  const mid = (await callLocal(node, 'MMCreate', alice, 'app', 'big', '{{auto}}', 2, 1)) as string
  const h = (await callLocal(node, 'MMOpen', alice, mid)) as string
  for (let v = 1; v <= versions; v++) {
    await callLocal(node, 'Set', h, 'blob', 'x'.repeat(kib * 1024) + v)
    await callLocal(node, 'MMBackup', alice, mid)
  }
  return mid
}

describe('old versions opened by many callers', () => {
  test('30 guests opening the same version share one copy of it', async () => {
    const mid = await publicDb(1, 512)
    const before = node.mimei.versionCopies.count
    const handles = await Promise.all(Array.from({ length: 30 }, () => callLocal(node, 'MMOpen', '', mid, 1)))
    expect(node.mimei.versionCopies.count).toBe(before + 1)
    for (const h of handles) expect(((await callLocal(node, 'Get', h, 'blob')) as string).length).toBe(512 * 1024 + 1)
    for (const h of handles) await callLocal(node, 'MMClose', h)
    expect(node.mimei.versionCopies.count).toBe(before)
  })

  test('past the per-user and node-wide byte limits MMOpen of another version is Busy; closing frees room', async () => {
    const limits = { ...node.mimei.limits }
    try {
      node.mimei.limits.versionCopyBytesPerUser = 2.5 * 1024 * 1024
      node.mimei.limits.versionCopyBytes = 4 * 1024 * 1024
      const mid = await publicDb(5, 1024)
      const first = (await callLocal(node, 'MMOpen', '', mid, 1)) as string
      await callLocal(node, 'MMOpen', '', mid, 2)
      expect(await failure(callLocal(node, 'MMOpen', '', mid, 3))).toStartWith('Busy: guests already hold old versions of')
      // Another user still has room, up to the node-wide limit.
      const bob = await login()
      await callLocal(node, 'MMOpen', bob, mid, 3)
      expect(await failure(callLocal(node, 'MMOpen', bob, mid, 4))).toStartWith('Busy: too many old versions are open on this node')
      // cur needs no copy and is never refused for it.
      expect(await callLocal(node, 'MMOpen', '', mid)).toBeString()
      await callLocal(node, 'MMClose', first)
      expect(await callLocal(node, 'MMOpen', bob, mid, 4)).toBeString()
    } finally {
      Object.assign(node.mimei.limits, limits)
    }
  })

  test('one user cannot hold more than handlesPerUser handles', async () => {
    const limit = node.mimei.limits.handlesPerUser
    try {
      node.mimei.limits.handlesPerUser = 5
      const carol = await login()
      const mid = (await callLocal(node, 'MMCreate', carol, 'app', 'h', '{{auto}}', 2)) as string
      const open = await Promise.all(Array.from({ length: 5 }, () => callLocal(node, 'MMOpen', carol, mid)))
      expect(await failure(callLocal(node, 'MMOpen', carol, mid))).toStartWith('Busy: ')
      await callLocal(node, 'MMClose', open[0])
      expect(await callLocal(node, 'MMOpen', carol, mid)).toBeString()
    } finally {
      node.mimei.limits.handlesPerUser = limit
    }
  })
})

describe('guests are counted per address', () => {
  test("one address's guests filling their handles do not lock out guests from another address", async () => {
    const limit = node.mimei.limits.handlesPerUser
    try {
      node.mimei.limits.handlesPerUser = 3
      const mid = (await callLocal(node, 'MMCreate', alice, 'app', 'public', '{{auto}}', 2, 1)) as string
      const from = (remote: string) => node.dispatcher.call('MMOpen', ['', mid], { transport: 'http', remote })
      for (let i = 0; i < 3; i++) await from('192.0.2.1')
      expect(await failure(from('192.0.2.1'))).toStartWith('Busy: guests from 192.0.2.1 already hold 3 open MiMei handles')
      expect(await from('192.0.2.2')).toBeString()
    } finally {
      node.mimei.limits.handlesPerUser = limit
    }
  })
})

describe('writes queued in a transaction', () => {
  test(`past ${MAX_TX_OPS} queued writes the next is refused, and Commit applies what was queued`, async () => {
    const mid = (await callLocal(node, 'MMCreate', alice, 'app', 'tx', '{{auto}}', 2)) as string
    const h = (await callLocal(node, 'MMOpen', alice, mid)) as string
    await callLocal(node, 'Begin', h, 60)
    for (let i = 0; i < MAX_TX_OPS; i++) await callLocal(node, 'Set', h, `k${i}`, i)
    expect(await failure(callLocal(node, 'Set', h, 'one-more', 1))).toStartWith(`QuotaExceeded: a transaction queues at most ${MAX_TX_OPS} writes`)
    expect(((await callLocal(node, 'Commit', h)) as unknown[]).length).toBe(MAX_TX_OPS)
    expect(await callLocal(node, 'Get', h, 'one-more')).toBe(null)
  })

  test(`past ${MAX_TX_BYTES} queued bytes the next write is refused`, async () => {
    const mid = (await callLocal(node, 'MMCreate', alice, 'app', 'txb', '{{auto}}', 2)) as string
    const h = (await callLocal(node, 'MMOpen', alice, mid)) as string
    await callLocal(node, 'Begin', h, 60)
    const chunk = new Uint8Array(4 * 1024 * 1024)
    for (let i = 0; i < 3; i++) await callLocal(node, 'Set', h, `k${i}`, chunk)
    expect(await failure(callLocal(node, 'Set', h, 'k3', chunk))).toStartWith('QuotaExceeded: a transaction queues at most')
    await callLocal(node, 'Rollback', h)
  })
})
