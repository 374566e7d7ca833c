// Issue 8 defect 4(c), found by bench/soak.ts: writes queued in transactions are capped per user over all their handles and node-wide, not only per transaction.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { generateKeyPair } from '../../runtime/identity/index.ts'
import { bootTest, callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'

const MiB = 1024 * 1024
const chunk = new Uint8Array(2 * MiB)
let node: TestKernel
const login = async () => ((await callLocal(node, 'Login', loginPassport(node, generateKeyPair()))) as { sid: string }).sid

beforeAll(async () => {
  node = await bootTest()
  node.mimei.limits.txBytesPerUser = 6 * MiB + 1024
  node.mimei.limits.txBytes = 10 * MiB + 2048
})
afterAll(() => node.stop())

/** `n` handles on one database everyone may write (made by `sid`), each with a transaction begun. */
async function transactions(owner: string, opener: string, n: number): Promise<string[]> {
  const mid = (await callLocal(node, 'MMCreate', owner, 'app', 'tx', '{{auto}}', 2, 3)) as string
  const handles: string[] = []
  for (let i = 0; i < n; i++) {
    const h = (await callLocal(node, 'MMOpen', opener, mid)) as string
    await callLocal(node, 'Begin', h, 600)
    handles.push(h)
  }
  return handles
}

test('one user cannot queue past txBytesPerUser by spreading writes over handles; Rollback, Commit and MMClose give the room back', async () => {
  const alice = await login()
  const [a, b, c] = await transactions(alice, alice, 3)
  await callLocal(node, 'Set', a, 'k1', chunk)
  await callLocal(node, 'Set', b, 'k2', chunk)
  await callLocal(node, 'Set', c, 'k3', chunk)
  // Each transaction holds only 2 MiB, far under its own cap, but alice holds 6 MiB in all.
  expect(await failure(callLocal(node, 'Set', c, 'k4', chunk))).toStartWith('QuotaExceeded: your open transactions queue at most')
  await callLocal(node, 'Rollback', a)
  expect(await callLocal(node, 'Set', c, 'k4', chunk)).toBe('QUEUED')
  expect(await failure(callLocal(node, 'Set', b, 'k5', chunk))).toStartWith('QuotaExceeded: your open transactions')
  await callLocal(node, 'MMClose', c)
  expect(await callLocal(node, 'Set', b, 'k5', chunk)).toBe('QUEUED')
  expect(((await callLocal(node, 'Commit', b)) as unknown[]).length).toBe(2)
  expect(node.mimei.handles.txBytesOf(node.mimei.handles.get(b).owner.userId)).toBe(0)
})

test('all users together cannot queue past txBytes; a stranger writing where everyone may is held to it too', async () => {
  const owner = await login()
  const users = [await login(), await login()]
  const [x1, x2, x3] = await transactions(owner, users[0]!, 3)
  const [y1, y2] = await transactions(owner, users[1]!, 2)
  for (const [h, k] of [[x1, 'a'], [x2, 'b'], [x3, 'c'], [y1, 'd']] as const) await callLocal(node, 'Set', h, k, chunk)
  await callLocal(node, 'Set', y2, 'e', chunk)
  // 10 MiB are queued on the node: one more write is refused whoever sends it.
  expect(await failure(callLocal(node, 'Set', y2, 'f', chunk))).toStartWith("QuotaExceeded: the node's open transactions already queue")
  await callLocal(node, 'Rollback', x1)
  expect(await callLocal(node, 'Set', y2, 'f', chunk)).toBe('QUEUED')
  for (const h of [x2, x3, y1, y2]) await callLocal(node, 'Rollback', h)
  expect(node.mimei.handles.txBytes).toBe(0)
})
