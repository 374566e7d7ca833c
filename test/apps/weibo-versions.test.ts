// MMLast: the newest installed version of many MiMei in one call (the Weibo page's watch of its
// followees' areas): versions answered per id, null for what the caller may not read or is not
// here, a limit on the ids per call, and the wait for a newer version than the caller has seen.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createUserKey, signPassport } from '../../runtime/identity/index.ts'
import { bootTest, callLocal, failure, type TestKernel } from '../helpers/kernel.ts'
import { MAX_LAST_IDS } from '../../syscalls/appdata.ts'

let node: TestKernel
let a: string
let b: string
let pub: string
let priv: string

async function login(name: string): Promise<string> {
  const key = createUserKey(node.dataDir, name)
  const ppt = signPassport(key, { audience: node.identity.nodeId, data: { CertFor: 'Self' }, ttl: 600 })
  return ((await callLocal(node, 'Login', ppt)) as { sid: string }).sid
}

beforeAll(async () => {
  node = await bootTest()
  a = await login('va')
  b = await login('vb')
  pub = (await callLocal(node, 'MMCreate', a, '', 'versions', 'public', 2, 1)) as string
  priv = (await callLocal(node, 'MMCreate', a, '', 'versions', 'private', 2, 0)) as string
  for (const mid of [pub, pub, priv]) await callLocal(node, 'MMBackup', a, mid, 'v')
})

afterAll(() => node.stop())

const unknown = 'AAAAAAAAAAAAAAAAAAAAAAAAAAA'

test('answers the newest version of each MiMei, null for one not here', async () => {
  expect(await callLocal(node, 'MMLast', a, [pub, priv, unknown])).toEqual({ [pub]: 2, [priv]: 1, [unknown]: null })
})

test("answers null for a MiMei the caller may not read, as for one not here (its author's answer is its version)", async () => {
  expect(await callLocal(node, 'MMLast', b, [pub, priv])).toEqual({ [pub]: 2, [priv]: null })
})

test(`refuses more than ${MAX_LAST_IDS} ids in one call, and ids that are not strings`, async () => {
  const many = Array.from({ length: MAX_LAST_IDS + 1 }, () => pub)
  expect(await failure(callLocal(node, 'MMLast', a, many))).toMatch(/^InvalidParams: .*at most/)
  expect(await failure(callLocal(node, 'MMLast', a, [pub, 7]))).toMatch(/^InvalidParams/)
  expect(await failure(callLocal(node, 'MMLast', a, [pub], { [pub]: 2 }, 600))).toMatch(/^InvalidParams/)
})

test('with the versions seen and a wait, it answers once one of them has a newer version', async () => {
  const waiting = callLocal(node, 'MMLast', b, [pub, priv], { [pub]: 2 }, 20) as Promise<Record<string, number | null>>
  // Answered at once, it would say 2; it answers when the backup below is made.
  await callLocal(node, 'MMBackup', a, pub, 'v3')
  expect(await waiting).toEqual({ [pub]: 3, [priv]: null })
  // Already newer than what the caller saw: no wait.
  expect(await callLocal(node, 'MMLast', b, [pub], { [pub]: 1 }, 20)).toEqual({ [pub]: 3 })
})
