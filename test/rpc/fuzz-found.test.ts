// Crashes and freezes the grammar fuzzer found (test/rpc/fuzz.test.ts), each pinned as the call that showed it.
//
// Each must be refused with the error a caller can act on, never `Internal` (a handler that
// threw something unplanned) and never by blocking the node.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger } from '../../runtime/log/index.ts'
import { createRpcHandler } from '../../runtime/rpc/protocol.ts'
import type { Dispatcher } from '../../syscalls/dispatch.ts'
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
    ['zadd-bytes', /^InvalidParams: pair 1 must be \{score, member\}/],
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

describe('pairs', () => {
  test('Hmset with bytes as its one pair is InvalidParams, not one field per byte', async () => {
    expect(await failure(callLocal(node, 'Hmset', handle, 'hm', new Uint8Array(1000).fill(1)))).toMatch(/^InvalidParams: pair 1 must be \{field, value\}/)
    expect(await failure(callLocal(node, 'Hmset', handle, 'hm', new Date(0)))).toMatch(/^InvalidParams: pair 1 must be \{field, value\}/)
    expect(await callLocal(node, 'Hlen', handle, 'hm')).toBe(0)
    // A map of fields is still taken as one pair each.
    expect(await callLocal(node, 'Hmset', handle, 'hm', { a: 1, b: 2 })).toBe(true)
    expect(await callLocal(node, 'Hlen', handle, 'hm')).toBe(2)
  })
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

describe('rest parameters', () => {
  test('a null among string rest arguments is InvalidParams, not a database constraint error', async () => {
    expect(await failure(callLocal(node, 'MMAddRef', sid, mid, 'a', null))).toMatch(/^InvalidParams: MMAddRef: parameter refs must be a string, got null/)
    expect(await failure(callLocal(node, 'MMDelRef', sid, mid, null))).toMatch(/^InvalidParams: MMDelRef: parameter refs must be a string, got null/)
    // Rest parameters of any type still take null as a value.
    expect(await callLocal(node, 'Rpush', handle, 'list', 1, null)).toBe(2)
    expect(await callLocal(node, 'Lrange', handle, 'list', 0, -1)).toEqual([1, null])
  })
})

describe('the RPC layer', () => {
  test('an error that is not a LeitherError is logged, even when it carries a code (as SQLite errors do)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leither-fuzz-log-'))
    try {
      const log = createLogger({ level: 'warn', dir, stderr: false })
      // A dispatcher whose syscall fails the way a database constraint does.
      const failing: Dispatcher = {
        call: async () => {
          throw Object.assign(new Error('NOT NULL constraint failed: t.c'), { code: 'SQLITE_CONSTRAINT_NOTNULL' })
        },
        names: () => ['Fails'],
        row: () => undefined,
        stats: () => new Map(),
      }
      const reply = await createRpcHandler(failing, log).handle(new TextEncoder().encode('Cs5"Fails"a{}z'), { transport: 'local' })
      log.close()
      expect(new TextDecoder().decode(reply)).toStartWith('Es')
      expect(new TextDecoder().decode(reply)).toContain('Internal: ')
      const lines = readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
      expect(lines.filter((l) => / ERROR /.test(l))).toEqual([expect.stringContaining('syscall failed call=Fails')])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('values named in error messages', () => {
  test('AppRevoke with capabilities that are cyclic lists or BigInts is InvalidParams', async () => {
    const self: unknown[] = [1]
    self.push(self)
    for (const bad of [self, 2n ** 70n, { k: self }]) {
      expect(await failure(callLocal(node, 'AppRevoke', sid, 'AAAAAAAAAAAAAAAAAAAAAAAAAAA', bad))).toMatch(/^InvalidParams: not app capabilities: (a list|a long integer|a map); known: /)
    }
  })

  test('MonitorStats with options that are cyclic lists or BigInts is InvalidParams', async () => {
    const self: unknown[] = [1]
    self.push(self)
    for (const opts of [{ kind: self }, { kind: 2n ** 70n }, { from: 2n ** 2000n }, { node: [self] }, { day: self }]) {
      expect(await failure(callLocal(node, 'MonitorStats', sid, opts))).toMatch(/^InvalidParams: MonitorStats: \w+ must be .*, got (a list|a long integer|a map)$/)
    }
  })
})

describe('files', () => {
  test('MFTemp2MacFile whose temp file is closed while it is hashed answers NotFound, not a missing file', async () => {
    const fsid = (await callLocal(node, 'MFOpenTempFile', sid)) as string
    for (let at = 0; at < 64 << 20; at += 8 << 20) await callLocal(node, 'MFSetData', fsid, new Uint8Array(8 << 20).fill(at >> 20), at)
    const committing = failure(callLocal(node, 'MFTemp2MacFile', fsid))
    // 64 MiB are hashed in slices that give the event loop back: close the file between two of them.
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(await callLocal(node, 'MFClose', fsid)).toBe(true)
    expect(await committing).toMatch(/^NotFound: /)
  })
})
