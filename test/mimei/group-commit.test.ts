// Group commit of database writes: writes sent together share one SQLite commit and are answered
// after it; a write that fails fails alone; a commit that fails fails every write in it, none kept.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { bootTest, callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'

let node: TestKernel
let sid: string
beforeAll(async () => {
  node = await bootTest()
  sid = ((await callLocal(node, 'Login', loginPassport(node))) as { sid: string }).sid
})
afterAll(() => node[Symbol.asyncDispose]())

const call = (name: string, ...args: unknown[]) => callLocal(node, name, ...args)

async function freshHandle(): Promise<string> {
  const mid = (await call('MMCreate', sid, 'grouptest', 'db', '{{auto}}', 2)) as string
  return (await call('MMOpen', sid, mid)) as string
}

/** Settles every promise: the value of each fulfilled one, the wire text (`Code: message`) of each failure. */
async function settle(ps: Promise<unknown>[]) {
  return Promise.all(ps.map((p) => p.then((value) => ({ ok: true as const, value }), () => failure(p).then((error) => ({ ok: false as const, error })))))
}

describe('group commit', () => {
  test('writes sent together share commits, each answered with its own result', async () => {
    const h = await freshHandle()
    const before = { ...node.mimei.writes.stats }
    const rs = await Promise.all(Array.from({ length: 64 }, (_, i) => call('Hset', h, 'hash', `f${i % 32}`, i)))
    // Fields 0..31 are new the first time (1), then replaced (0).
    expect(rs).toEqual(Array.from({ length: 64 }, (_, i) => (i < 32 ? 1 : 0)))
    const groups = node.mimei.writes.stats.groups - before.groups
    expect(node.mimei.writes.stats.writes - before.writes).toBe(64)
    expect(groups).toBeLessThan(64)
    expect(await call('Hlen', h, 'hash')).toBe(32)
    expect(await call('Hget', h, 'hash', 'f5')).toBe(37)
  })

  test('a write that fails in a group fails alone; the others are kept', async () => {
    const h = await freshHandle()
    await call('Set', h, 'str', 'text')
    const rs = await settle([call('Hset', h, 'a', 'f', 1), call('Hset', h, 'str', 'f', 2), call('Rpush', h, 'l', 'x', 'y')])
    expect(rs[0]).toEqual({ ok: true, value: 1 })
    expect(rs[1].ok).toBe(false)
    expect(rs[2]).toEqual({ ok: true, value: 2 })
    expect(await call('Get', h, 'str')).toBe('text')
    expect(await call('Lrange', h, 'l', 0, -1)).toEqual(['x', 'y'])
  })

  test('every write of a group takes the next sequence number; a failed one takes none', async () => {
    const h = await freshHandle()
    await call('Set', h, 'str', 'text')
    const before = (await call('GetLastSeq', h)) as number
    const rs = await settle([call('Hset', h, 'a', 'f', 1), call('Hset', h, 'str', 'f', 2), call('Zadd', h, 'z', [1, 'm']), call('Incr', h, 'n')])
    expect(rs.map((r) => r.ok)).toEqual([true, false, true, true])
    expect(await call('GetLastSeq', h)).toBe(before + 3)
    // A backup after the group holds its writes, and the counters survive a reload of the row.
    expect(node.mimei.db.query('SELECT seq FROM mimei WHERE mid = ?').get(node.mimei.handles.get(h).mid)).toEqual({ seq: before + 3 })
  })

  test('a Commit in the same group as plain writes continues their sequence numbers', async () => {
    const h = await freshHandle()
    const mid = node.mimei.handles.get(h).mid
    const h2 = (await call('MMOpen', sid, mid)) as string
    await call('Begin', h2, 30)
    await call('Set', h2, 't1', 1)
    await call('Set', h2, 't2', 2)
    const before = (await call('GetLastSeq', h)) as number
    await Promise.all([call('Set', h, 'p1', 1), call('Commit', h2), call('Set', h, 'p2', 2)])
    expect(await call('GetLastSeq', h)).toBe(before + 4)
    // Every key carries its own sequence number: none was handed out twice.
    const seqs = node.mimei.db.query('SELECT seq FROM kv WHERE m = ?').values(node.mimei.handles.get(h).m).map((r) => r[0])
    expect(new Set(seqs).size).toBe(seqs.length)
  })

  test('a read sees every write sent before it, committed', async () => {
    const h = await freshHandle()
    const write = call('Set', h, 'k', 'v')
    expect(await call('Get', h, 'k')).toBe('v')
    expect(await write).toBe(true)
  })

  test('when the commit of a group fails, every write in it fails with WriteFailed and none is kept', async () => {
    const h = await freshHandle()
    const { db } = node.mimei
    // A check SQLite makes only at COMMIT: a deferred foreign key that the field "poison" breaks.
    db.run('CREATE TEMP TABLE poison_parent (id INTEGER PRIMARY KEY)')
    db.run('CREATE TEMP TABLE poison_child (pid INTEGER REFERENCES poison_parent (id) DEFERRABLE INITIALLY DEFERRED)')
    db.run("CREATE TEMP TRIGGER poison AFTER INSERT ON main.kv_hash WHEN NEW.field = 'poison' BEGIN INSERT INTO poison_child VALUES (1); END")
    try {
      const fields = ['a', 'b', 'poison', 'c', 'd']
      const rs = await settle(fields.map((f) => call('Hset', h, 'hash', f, 1)))
      for (const r of rs) expect(r.ok ? 'answered' : r.error).toStartWith('WriteFailed: ')
      expect(await call('Hgetall', h, 'hash')).toEqual({})
      // The next group commits as usual.
      expect(await call('Hset', h, 'hash', 'after', 1)).toBe(1)
      expect(await call('Hgetall', h, 'hash')).toEqual({ after: 1 })
    } finally {
      db.run('DROP TRIGGER temp.poison')
    }
  })

  test('a transaction commits in a group too: Conflict still applies nothing', async () => {
    const h = await freshHandle()
    await call('Begin', h, 30)
    expect(await call('Set', h, 'x', 1)).toBe('QUEUED')
    // Another handle on the same MiMei changes x after Begin.
    const mid = node.mimei.handles.get(h).mid
    const h2 = (await call('MMOpen', sid, mid)) as string
    await call('Set', h2, 'x', 2)
    expect(await failure(call('Commit', h))).toStartWith('Conflict: ')
    expect(await call('Get', h, 'x')).toBe(2)
  })
})
