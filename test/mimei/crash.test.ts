// Crash safety of MiMei: a real node killed with SIGKILL under write load keeps exactly its acknowledged writes,
// every version whose backup was acknowledged (database and file, in blocks) reads back whole, and every stored block hashes to its id.
// The kill points come from a printed seed; LEITHER_CRASH_SEED=<seed> replays them.
import { afterAll, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { closeSync, openSync, readFileSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { cidOf, parseCid } from '../../runtime/mimei/blocks.ts'
import { findUserKey, signPassport } from '../../runtime/identity/index.ts'
import { callRemote, TransportError } from '../../runtime/rpc/client.ts'
import { startNode, tempDir, type RunningNode } from '../helpers/node.ts'

const LOCAL = ['--port', '0', '--host', '127.0.0.1']
const ROUNDS = 10
const WORKERS = 6
/** The kill comes after this many acknowledged writes, picked per round from the seed. */
const KILL_AFTER = { min: 20, max: 400 }

/** A 32-bit seed: LEITHER_CRASH_SEED to replay a run, else a fresh one. */
function crashSeed(text = process.env.LEITHER_CRASH_SEED): number {
  if (text === undefined || text === '') return crypto.getRandomValues(new Uint32Array(1))[0]
  if (!/^\d+$/.test(text) || Number(text) > 0xffffffff) throw new Error(`LEITHER_CRASH_SEED must be an integer 0..4294967295, got ${JSON.stringify(text)}`)
  return Number(text)
}

/** mulberry32: a small PRNG whose whole state is the seed, so a run is replayed from it. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SEED = crashSeed()
const random = prng(SEED)
const KILL_POINTS = Array.from({ length: ROUNDS }, () => KILL_AFTER.min + Math.floor(random() * (KILL_AFTER.max - KILL_AFTER.min)))
console.log(`crash test: seed ${SEED}, kills after ${KILL_POINTS.join(', ')} acknowledged writes (replay: LEITHER_CRASH_SEED=${SEED})`)

const dir = tempDir('leither-crash-')
afterAll(() => dir[Symbol.dispose]())

/** What one worker of one round did: its ops run one after another, so at most one is in flight. */
interface WorkerLog {
  /** Index of the last op whose reply arrived (-1: none). */
  acked: number
  /** Index of the op sent when the node died and never answered, if any. */
  inflight?: number
}

/** Op i of a worker cycles through these kinds; each value names its round, worker and op. */
const KINDS = ['Set', 'Hset', 'Rpush', 'Incr', 'Tx'] as const
const kindOf = (i: number) => KINDS[i % KINDS.length]
const keys = (round: number, w: number) => ({
  set: (i: number) => `r${round}:s:${w}:${i}`,
  hash: `r${round}:h:${w}`,
  list: `r${round}:l:${w}`,
  counter: `r${round}:n:${w}`,
  tx: `r${round}:t:${w}`,
})

/** Sends op i; it is acknowledged when its (last) reply arrives. */
async function runOp(node: RunningNode, h: string, round: number, w: number, i: number): Promise<void> {
  const k = keys(round, w)
  switch (kindOf(i)) {
    case 'Set':
      return void (await call(node, 'Set', h, k.set(i), `v:${round}:${w}:${i}`))
    case 'Hset':
      return void (await call(node, 'Hset', h, k.hash, `f${i}`, i))
    case 'Rpush':
      // Three values in one write: after a crash all three are there or none.
      return void (await call(node, 'Rpush', h, k.list, `${i}:a`, `${i}:b`, `${i}:c`))
    case 'Incr':
      return void (await call(node, 'Incr', h, k.counter))
    case 'Tx':
      // Two writes in one transaction: both or neither, whenever the kill comes.
      await call(node, 'Begin', h, 30)
      await call(node, 'Hset', h, k.tx, `a${i}`, i)
      await call(node, 'Hset', h, k.tx, `b${i}`, i)
      return void (await call(node, 'Commit', h))
  }
}

/** What the client keeps across crashes: its session, the database, and what each round did. */
let sid = ''
let mid = ''
/** A file MiMei backed up again and again while the writers run, and the versions acknowledged. */
let fileMid = ''
const history: WorkerLog[][] = []
const versions: { mid: string; ver: number; digest?: string }[] = []

const FILE_BYTES = 1536 * 1024
const sha256 = (b: Uint8Array) => new Bun.CryptoHasher('sha256').update(b).digest('hex')

const call = (node: RunningNode, name: string, ...args: unknown[]) => callRemote(node.url, name, args, 10_000)

async function firstLogin(node: RunningNode): Promise<void> {
  const owner = JSON.parse(readFileSync(join(dir, 'leither.json'), 'utf8')).owner as string
  const nodeId = (await call(node, 'GetVar', '', 'nodeid')) as string
  const ppt = signPassport(findUserKey(dir, owner, () => {}), { audience: nodeId, data: { CertFor: 'Self' }, ttl: 3600 })
  sid = ((await call(node, 'Login', ppt)) as { sid: string }).sid
  mid = (await call(node, 'MMCreate', sid, 'crash', 'db', 'load', 2)) as string
  fileMid = (await call(node, 'MMCreate', sid, 'crash', 'files', 'load', 1)) as string
}

/**
 * Until the kill: rewrites the file MiMei's one file with fresh random bytes (six 256 KiB blocks)
 * and backs it up, then backs up the database; each version acknowledged is recorded.
 */
async function backUpUntilKilled(node: RunningNode, isKilled: () => boolean): Promise<void> {
  const h = (await call(node, 'MMOpen', sid, fileMid)) as string
  try {
    while (!isKilled()) {
      const data = new Uint8Array(65536)
      const content = new Uint8Array(FILE_BYTES)
      for (let at = 0; at < FILE_BYTES; at += 65536) content.set(crypto.getRandomValues(data), at)
      const f = (await call(node, 'MFOpenByPath', sid, h, 'data.bin', 0x242)) as string
      await call(node, 'MFSetData', f, content, 0)
      await call(node, 'MFClose', f)
      versions.push({ mid: fileMid, ver: (await call(node, 'MMBackup', sid, fileMid, '')) as number, digest: sha256(content) })
      versions.push({ mid, ver: (await call(node, 'MMBackup', sid, mid, '')) as number })
    }
  } catch (err) {
    // Only the kill may end them, as a connection that failed.
    if (isKilled() && (err as Error).message.includes(`cannot reach the node at ${node.url}`)) return
    throw new Error(`backups, ${isKilled() ? 'after' : 'before'} the kill (seed ${SEED}): ${(err as Error).message}`)
  }
}

/** Every acknowledged version opens; a file version's file holds exactly the bytes written before its backup. */
async function verifyVersions(node: RunningNode): Promise<void> {
  for (const v of versions) {
    const h = (await call(node, 'MMOpen', sid, v.mid, v.ver)) as string
    if (v.digest === undefined) {
      expect(typeof (await call(node, 'GetLastSeq', h))).toBe('number')
    } else {
      const f = (await call(node, 'MFOpenByPath', sid, h, 'data.bin', 0)) as string
      const parts: Uint8Array[] = []
      for (let at = 0; at < FILE_BYTES; at += 512 * 1024) parts.push((await call(node, 'MFGetData', f, at, 512 * 1024)) as Uint8Array)
      expect(sha256(Buffer.concat(parts)), `version ${v.ver} of the file MiMei (seed ${SEED})`).toBe(v.digest)
      await call(node, 'MFClose', f)
    }
    await call(node, 'MMClose', h)
  }
}

/** Every block row names bytes that are there and hash to its CID (pack files and block files alike). */
function blocksIntact(): string[] {
  const db = new Database(join(dir, 'leither.db'), { readonly: true })
  const bad: string[] = []
  try {
    for (const b of db.query('SELECT cid, size, pack, off FROM blocks').all() as { cid: string; size: number; pack: number | null; off: number | null }[]) {
      let bytes: Uint8Array
      try {
        if (b.pack === null) bytes = readFileSync(join(dir, 'blocks', b.cid.slice(-2), b.cid))
        else {
          bytes = new Uint8Array(b.size)
          const fd = openSync(join(dir, 'blocks', 'packs', `${b.pack}.pack`), 'r')
          try {
            if (readSync(fd, bytes, 0, b.size, b.off) !== b.size) throw new Error('short read')
          } finally {
            closeSync(fd)
          }
        }
      } catch (err) {
        bad.push(`${b.cid}: ${(err as Error).message}`)
        continue
      }
      if (cidOf(bytes, parseCid(b.cid).code) !== b.cid) bad.push(`${b.cid}: bytes do not hash to it`)
    }
  } finally {
    db.close()
  }
  return bad
}

/** Runs WORKERS sequential writers until the node is killed after `killAfter` acknowledged writes. */
async function loadUntilKilled(node: RunningNode, round: number, killAfter: number): Promise<WorkerLog[]> {
  let acknowledged = 0
  let killed = false
  const logs: WorkerLog[] = Array.from({ length: WORKERS }, () => ({ acked: -1 }))
  // A handle per worker: transactions are per handle.
  const handles = await Promise.all(logs.map(() => call(node, 'MMOpen', sid, mid) as Promise<string>))
  const backups = backUpUntilKilled(node, () => killed)
  const worker = async (w: number) => {
    const h = handles[w]
    for (let i = 0; ; i++) {
      logs[w].inflight = i
      try {
        await runOp(node, h, round, w, i)
      } catch (err) {
        // Only the kill may end a worker, and only as a connection that failed: an E reply, an
        // HTTP error or a failure before the kill fails the round.
        if (killed && err instanceof TransportError && err.message.startsWith(`Transport: cannot reach the node at ${node.url}`)) return
        throw new Error(`round ${round}, worker ${w}, op ${i} (${kindOf(i)}), ${killed ? 'after' : 'before'} the kill (seed ${SEED}): ${(err as Error).message}`)
      }
      logs[w] = { acked: i }
      if (++acknowledged === killAfter) {
        killed = true
        node.proc.kill('SIGKILL')
      }
    }
  }
  await Promise.all([...logs.map((_, w) => worker(w)), backups])
  await node.stop('SIGKILL')
  expect(acknowledged).toBeGreaterThanOrEqual(killAfter)
  return logs
}

/** Checks one round's data: every acknowledged write present, nothing never sent, in-flight ones whole or absent. */
async function verifyRound(node: RunningNode, h: string, round: number, logs: WorkerLog[]): Promise<void> {
  const known = new Set<string>()
  for (const [w, log] of logs.entries()) {
    const k = keys(round, w)
    const ops = (kind: (typeof KINDS)[number]) => {
      const done: number[] = []
      for (let i = 0; i <= log.acked; i++) if (kindOf(i) === kind) done.push(i)
      const maybe = log.inflight !== undefined && kindOf(log.inflight) === kind ? log.inflight : undefined
      return { done, maybe }
    }
    const where = `round ${round}, worker ${w} (acked ${log.acked}, in flight ${log.inflight ?? 'none'}; seed ${SEED})`

    const sets = ops('Set')
    const setKeys = (await call(node, 'Scan', h, '', `r${round}:s:${w}:*`, 10_000)) as string[]
    const expectedKeys = sets.done.map(k.set)
    const optionalKey = sets.maybe === undefined ? [] : [k.set(sets.maybe)]
    expect(setKeys.filter((key) => !optionalKey.includes(key)).sort(), where).toEqual(expectedKeys.sort())
    for (const i of [...sets.done, ...(sets.maybe === undefined ? [] : [sets.maybe])]) {
      if (setKeys.includes(k.set(i))) expect(await call(node, 'Get', h, k.set(i)), where).toBe(`v:${round}:${w}:${i}`)
    }

    const hashOps = ops('Hset')
    const fields = (await call(node, 'Hgetall', h, k.hash)) as Record<string, number>
    const expectedFields = Object.fromEntries(hashOps.done.map((i) => [`f${i}`, i]))
    if (hashOps.maybe !== undefined && `f${hashOps.maybe}` in fields) expectedFields[`f${hashOps.maybe}`] = hashOps.maybe
    expect(fields, where).toEqual(expectedFields)

    const pushes = ops('Rpush')
    const list = (await call(node, 'Lrange', h, k.list, 0, -1)) as string[]
    const triples = pushes.done.flatMap((i) => [`${i}:a`, `${i}:b`, `${i}:c`])
    if (pushes.maybe !== undefined && list.length > triples.length) triples.push(`${pushes.maybe}:a`, `${pushes.maybe}:b`, `${pushes.maybe}:c`)
    expect(list, where).toEqual(triples)

    const incrs = ops('Incr')
    const counter = (await call(node, 'Get', h, k.counter)) as number | null
    const allowed = [incrs.done.length, ...(incrs.maybe === undefined ? [] : [incrs.done.length + 1])].map((n) => (n === 0 ? null : n))
    expect(allowed, where).toContain(counter)

    const txs = ops('Tx')
    const txFields = (await call(node, 'Hgetall', h, k.tx)) as Record<string, number>
    const expectedTx = Object.fromEntries(txs.done.flatMap((i) => [[`a${i}`, i], [`b${i}`, i]]))
    if (txs.maybe !== undefined && (`a${txs.maybe}` in txFields || `b${txs.maybe}` in txFields)) {
      Object.assign(expectedTx, { [`a${txs.maybe}`]: txs.maybe, [`b${txs.maybe}`]: txs.maybe })
    }
    expect(txFields, where).toEqual(expectedTx)

    for (const key of [...setKeys, k.hash, k.list, k.counter, k.tx]) known.add(key)
  }
  // No key of the round that no worker could have written.
  const all = (await call(node, 'Scan', h, '', `r${round}:*`, 10_000)) as string[]
  expect(all.filter((key) => !known.has(key)), `round ${round}: keys nobody wrote`).toEqual([])
}

function integrityCheck(): string[] {
  const db = new Database(join(dir, 'leither.db'), { readonly: true })
  try {
    return (db.query('PRAGMA integrity_check').all() as { integrity_check: string }[]).map((r) => r.integrity_check)
  } finally {
    db.close()
  }
}

describe('SIGKILL under write load', () => {
  for (let round = 0; round < ROUNDS; round++) {
    test(`crash ${round + 1} of ${ROUNDS}: acknowledged writes and versions survive, nothing unsent appears, the database and blocks are intact`, async () => {
      const killAfter = KILL_POINTS[round]
      {
        await using node = await startNode(['--data', dir, ...LOCAL])
        if (!sid) await firstLogin(node)
        history[round] = await loadUntilKilled(node, round, killAfter)
      }
      // The file as the crash left it (WAL not folded back) is consistent too, and so are the blocks.
      expect(integrityCheck()).toEqual(['ok'])
      expect(blocksIntact()).toEqual([])
      {
        await using node = await startNode(['--data', dir, ...LOCAL])
        // The session and the data outlive the crash; handles do not.
        const h = (await call(node, 'MMOpen', sid, mid)) as string
        for (let r = 0; r <= round; r++) await verifyRound(node, h, r, history[r])
        await verifyVersions(node)
        // The versions checked are not none: backups were acknowledged before the kills.
        if (round === ROUNDS - 1) expect(versions.length).toBeGreaterThan(0)
        expect(await node.stop('SIGTERM')).toBe(0)
      }
      expect(integrityCheck()).toEqual(['ok'])
    })
  }
})
