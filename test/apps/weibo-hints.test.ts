// Hints between users of one node (AppDataHint / AppDataHints): the sender is the session's user,
// each sender holds a limited number of unread hints per recipient (counted where a hint enters),
// and the recipient takes them. Weibo's page announces to users of its node this way.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createUserKey, signPassport } from '../../runtime/identity/index.ts'
import { bootTest, callLocal, failure, type TestKernel } from '../helpers/kernel.ts'
import { HINTS_PER_TAKE, MAX_HINTS_PER_SENDER } from '../../syscalls/appdata.ts'
import { weiboId } from './weibo-helpers.ts'

let node: TestKernel
let app: string
const sid: Record<string, string> = {}
const uid: Record<string, string> = {}

beforeAll(async () => {
  node = await bootTest()
  app = await weiboId(node)
  for (const name of ['ha', 'hb', 'hc']) {
    const key = createUserKey(node.dataDir, name)
    uid[name] = key.id
    sid[name] = ((await callLocal(node, 'Login', signPassport(key, { audience: node.identity.nodeId, data: { CertFor: 'Self' }, ttl: 600 }))) as { sid: string }).sid
  }
})

afterAll(() => node.stop())

test(`a sender holds at most ${MAX_HINTS_PER_SENDER} unread hints per recipient; others still reach her; taken, the sender may leave more`, async () => {
  for (let i = 0; i < MAX_HINTS_PER_SENDER; i++) await callLocal(node, 'AppDataHint', sid.ha, app, uid.hb, { t: 'like', post: `p${i}` })
  expect(await failure(callLocal(node, 'AppDataHint', sid.ha, app, uid.hb, { t: 'like', post: 'one more' }))).toMatch(/^QuotaExceeded: .*unread hints from you/)
  // Another sender is not crowded out, nor is another recipient.
  await callLocal(node, 'AppDataHint', sid.hc, app, uid.hb, { t: 'follow' })
  await callLocal(node, 'AppDataHint', sid.ha, app, uid.hc, { t: 'follow' })
  const got = (await callLocal(node, 'AppDataHints', sid.hb, app)) as { from: string; body: { t: string; post?: string } }[]
  expect(got).toHaveLength(MAX_HINTS_PER_SENDER + 1)
  expect(got.filter((h) => h.from === uid.ha).map((h) => h.body.post)).toEqual(Array.from({ length: MAX_HINTS_PER_SENDER }, (_, i) => `p${i}`))
  expect(got.filter((h) => h.from === uid.hc).map((h) => h.body)).toEqual([{ t: 'follow' }])
  // Taken: gone, and the sender may leave hints again.
  expect(await callLocal(node, 'AppDataHints', sid.hb, app)).toEqual([])
  await callLocal(node, 'AppDataHint', sid.ha, app, uid.hb, { t: 'like', post: 'again' })
  expect(await callLocal(node, 'AppDataHints', sid.hb, app)).toMatchObject([{ from: uid.ha, body: { post: 'again' } }])
  expect(await callLocal(node, 'AppDataHints', sid.hc, app)).toMatchObject([{ from: uid.ha, body: { t: 'follow' } }])
})

test('the sender is the session, whatever the body says; bad input is refused', async () => {
  await callLocal(node, 'AppDataHint', sid.hc, app, uid.hb, { t: 'like', from: uid.ha })
  expect(await callLocal(node, 'AppDataHints', sid.hb, app)).toMatchObject([{ from: uid.hc, body: { from: uid.ha } }])
  expect(await failure(callLocal(node, 'AppDataHint', sid.ha, app, 'nobody', { t: 'like' }))).toMatch(/^InvalidParams/)
  expect(await failure(callLocal(node, 'AppDataHint', sid.ha, app, uid.hb, { t: 'x'.repeat(3000) }))).toMatch(/^InvalidParams: .*at most/)
  expect(HINTS_PER_TAKE).toBeGreaterThan(MAX_HINTS_PER_SENDER)
})
