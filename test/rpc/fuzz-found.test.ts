// Crashes and freezes the grammar fuzzer found (test/rpc/fuzz.test.ts), each pinned as the call that showed it.
//
// Each must be refused with the error a caller can act on, never `Internal` (a handler that
// threw something unplanned) and never by blocking the node.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { bootTest, callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'

let node: TestKernel
let sid: string
let mid: string
let handle: string
beforeAll(async () => {
  node = await bootTest()
  sid = ((await callLocal(node, 'Login', loginPassport(node))) as { sid: string }).sid
  mid = (await callLocal(node, 'MMCreate', sid, 'fuzz', 'db', 'found', 2)) as string
  handle = (await callLocal(node, 'MMOpen', sid, mid)) as string
})
afterAll(() => node.stop())

/** A list that holds itself twice over: a tree walk of it doubles at every level. */
function branchingCycle(): unknown[] {
  const list: unknown[] = [1]
  list.push(list, { back: list })
  return list
}

describe('database values', () => {
  test('a value that contains itself is refused with InvalidParams', async () => {
    const self: unknown[] = [1]
    self.push(self)
    const map: Record<string, unknown> = {}
    map.self = map
    expect(await failure(callLocal(node, 'Set', handle, 'k', self))).toMatch(/^InvalidParams: .*contain itself/)
    expect(await failure(callLocal(node, 'Hset', handle, 'h', 'f', map))).toMatch(/^InvalidParams: .*contain itself/)
    expect(await failure(callLocal(node, 'Sadd', handle, 's', 'ok', self))).toMatch(/^InvalidParams: .*contain itself/)
  })

  test('values with shared (acyclic) parts and deep nesting are still stored', async () => {
    const shared = { k: [1, 2] }
    expect(await callLocal(node, 'Set', handle, 'shared', [shared, shared])).toBeDefined()
    expect(await callLocal(node, 'Get', handle, 'shared')).toEqual([shared, shared])
    let deep: unknown = 'leaf'
    for (let i = 0; i < 400; i++) deep = [deep]
    await callLocal(node, 'Set', handle, 'deep', deep)
    expect(await callLocal(node, 'Get', handle, 'deep')).toEqual(deep)
  })

  /**
   * Before the fix these walked the value as a tree (2^40 to 2^64 steps) with the event loop
   * blocked; each runs in a child process, where a freeze is killed and reported instead of
   * hanging the suite.
   */
  for (const [name, refused] of [
    ['branching-cycle', /^InvalidParams: .*contain itself/],
    ['doubling', /^InvalidParams: .*expands to more than/],
  ] as const) {
    test(`${name}: refused without freezing the node`, async () => {
      const proc = Bun.spawn([process.execPath, join(import.meta.dir, 'fuzz-found-child.ts'), name], { stdout: 'pipe', stderr: 'pipe' })
      const killer = setTimeout(() => proc.kill(), 30_000)
      const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
      clearTimeout(killer)
      expect({ code, out: out.trim() }).toEqual({ code: 0, out: expect.stringMatching(refused) })
    }, 60_000)
  }
})

describe('version arguments', () => {
  test('a version that is a cyclic list, a map or a huge integer is refused with InvalidParams', async () => {
    for (const ver of [branchingCycle(), { v: 1 }, 2n ** 70n]) {
      expect(await failure(callLocal(node, 'MMDelVers', sid, mid, ver))).toMatch(/^InvalidParams: version must be/)
    }
  })
})

describe('names looked up in tables', () => {
  test('GetVar of a name every object has (__proto__, constructor, toString) is NotFound', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(await failure(callLocal(node, 'GetVar', '', name))).toMatch(/^NotFound: no variable/)
      expect(await failure(callLocal(node, 'GetVar', sid, name))).toMatch(/^NotFound: no variable/)
    }
  })
})
