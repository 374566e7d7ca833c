// Block transfer between two nodes in this process, all in one run: a bare libp2p stream (the
// anchor), /leither/block alone (blocks fetched and hash-checked, not stored) and MiMeiSync (the
// whole path: DAG walk, fetch, check, store, install), and the install alone two ways (on a worker, in
// one turn of the event loop). First, how blocks are stored: the node's
// pack files against one file per block and blocks in SQLite. `bun bench/mimei-blocks.ts [--quick]`
import { Database } from 'bun:sqlite'
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { blockStore, cidOf } from '../runtime/mimei/blocks.ts'
import { mimeiId } from '../runtime/mimei/model.ts'
import { migrate, openDatabase } from '../runtime/store/index.ts'
import { bootNetwork, tcpAddr } from '../test/helpers/network.ts'
import { callLocal, loginPassport, type TestKernel } from '../test/helpers/kernel.ts'
import { publishRandomFile } from './file-mimei.ts'
import type { SyncResult } from '../runtime/net/sync.ts'
import { fetchBlocks, MAX_BLOCKS_PER_REQUEST } from '../runtime/net/blockproto.ts'
import { selectNoiseCrypto } from '../runtime/net/crypto.ts'
import { SINK_PROTOCOL, sendLibp2p } from './net-stack.ts'
import { machineLine, table, writeSection } from './results.ts'

const quick = process.argv.includes('--quick')
/** `--out FILE`: the section goes to FILE instead of bench/RESULTS.md (runs while changing the code). */
const outAt = process.argv.indexOf('--out')
const out = outAt > 0 ? process.argv[outAt + 1] : undefined
const ROUNDS = quick ? 1 : 3
const BYTES = (quick ? 32 : 128) * 1024 * 1024
const IN_FLIGHT = 4

const owner = async (k: TestKernel) => ((await callLocal(k, 'Login', loginPassport(k))) as { sid: string }).sid
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
/** CPU time of the main thread alone (both nodes' event loop), ms: /proc's schedstat, where there is one. */
const mainMs = () => {
  try {
    return Number(readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6
  } catch {
    return NaN
  }
}
/** Runs `fn`, returning its result with the process's and the main thread's CPU ms spent meanwhile. */
async function withCpu<T>(fn: () => Promise<T>): Promise<T & { cpu: number; main: number }> {
  const c0 = cpuMs()
  const m0 = mainMs()
  const out = await fn()
  return Object.assign(out as object, { cpu: cpuMs() - c0, main: mainMs() - m0 }) as T & { cpu: number; main: number }
}

/** A published file MiMei of `bytes` random bytes on `author`; its mid and block CIDs. */
async function makeFile(author: TestKernel, sid: string, name: string, bytes: number) {
  const { mid, ver } = await publishRandomFile(author, sid, bytes, name)
  const row = author.mimei.row(mid)
  const cids = (author.mimei.db.query('SELECT cid FROM block_pins WHERE owner = ?').all(`v:${row.id}:${ver}`) as { cid: string }[]).map((r) => r.cid)
  return { mid, cids }
}

/** /leither/block alone: every CID fetched and hash-checked, IN_FLIGHT requests of 64 at a time, nothing stored. */
async function fetchOnly(reader: TestKernel, author: TestKernel, cids: string[]) {
  const peer = author.net!.libp2p.peerId
  const batches: string[][] = []
  for (let i = 0; i < cids.length; i += MAX_BLOCKS_PER_REQUEST) batches.push(cids.slice(i, i + MAX_BLOCKS_PER_REQUEST))
  let bytes = 0
  const worker = async () => {
    for (let b = batches.shift(); b; b = batches.shift()) for await (const got of fetchBlocks(reader.net!.libp2p, peer, b)) bytes += got.size
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  return { bytes, ms: performance.now() - t0 }
}

/**
 * Installs as `cur` of a new MiMei the version just synced (its blocks are all on `node`) two ways,
 * in an order that turns each round: as the sync does (the bytes copied on a worker, then moved in)
 * and in one turn of the event loop inside the transaction (installVersionNow, as every install
 * was before). Wall time and the longest gap of a 5 ms timer during each.
 */
async function installWays(node: TestKernel, synced: SyncResult, round: number) {
  const row = node.mimei.row(synced.mid)
  const blocks = (node.mimei.db.query('SELECT cid FROM block_pins WHERE owner = ?').values(`v:${row.id}:${synced.ver}`) as string[][]).map((r) => r[0])
  const size = (node.mimei.db.query('SELECT size FROM mimei_versions WHERE m = ? AND ver = ?').get(row.id, synced.ver) as { size: number }).size
  const record = (mark: string) => ({ mid: mimeiId(row.author, 'bench', 'install', mark), author: row.author, app: 'bench', ext: 'install', mark, type: row.type, ver: 1, cid: synced.cid, seq: 1, size, created: Math.floor(Date.now() / 1000) })
  const measure = async (install: () => unknown) => {
    let gap = 0
    let last = performance.now()
    const timer = setInterval(() => {
      const now = performance.now()
      gap = Math.max(gap, now - last)
      last = now
    }, 5)
    const t0 = performance.now()
    last = t0
    await install()
    const ms = performance.now() - t0
    gap = Math.max(gap, performance.now() - last)
    clearInterval(timer)
    return { ms, gap }
  }
  const ways = {
    worker: () => measure(() => node.mimei.installVersion(record(`w${round}`), blocks)),
    oneTurn: () => measure(() => node.mimei.installVersionNow(record(`o${round}`), blocks)),
  }
  const out = {} as Record<keyof typeof ways, { ms: number; gap: number }>
  for (const k of round % 2 ? (['oneTurn', 'worker'] as const) : (['worker', 'oneTurn'] as const)) out[k] = await ways[k]()
  return out
}

/**
 * Puts and reads back `n` random 256 KiB blocks three ways, each in a fresh temp dir with a database
 * opened as the node opens it: the node's block store (pack files; a row per block); one file per
 * block plus its row (written to a temp name and renamed, as the store did before); the bytes in a
 * SQLite table, 64 blocks a transaction. Returns MB/s per way, put and get.
 */
function storageWays(n: number, round: number) {
  const blocks = Array.from({ length: n }, () => {
    const b = new Uint8Array(256 * 1024)
    for (let at = 0; at < b.length; at += 65536) crypto.getRandomValues(b.subarray(at, at + 65536))
    return { cid: cidOf(b), b }
  })
  const mbs = (ms: number) => (n * 256 * 1024) / 1e6 / (ms / 1000)
  const time = (fn: () => void) => {
    const t0 = performance.now()
    fn()
    return performance.now() - t0
  }
  const inDir = <T>(fn: (dir: string, db: Database) => T): T => {
    const dir = mkdtempSync(join(tmpdir(), 'leither-bench-blocks-'))
    const db = openDatabase(join(dir, 'leither.db'))
    migrate(db)
    try {
      return fn(dir, db)
    } finally {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const packs = () => inDir((dir, db) => {
    const store = blockStore(db, dir)
    const put = time(() => blocks.forEach((x) => store.putChecked(x.cid, x.b)))
    const get = time(() => blocks.forEach((x) => store.get(x.cid, false)))
    store.close()
    return { put: mbs(put), get: mbs(get) }
  })
  const files = () => inDir((dir, db) => {
    const insert = db.query('INSERT OR IGNORE INTO blocks (cid, size, created) VALUES (?, ?, ?)')
    const made = new Set<string>()
    const path = (cid: string) => join(dir, cid.slice(-2), cid)
    const put = time(() => {
      for (const { cid, b } of blocks) {
        if (!made.has(cid.slice(-2))) mkdirSync(join(dir, cid.slice(-2)), { recursive: true }), made.add(cid.slice(-2))
        writeFileSync(`${path(cid)}.tmp`, b)
        renameSync(`${path(cid)}.tmp`, path(cid))
        insert.run(cid, b.length, 0)
      }
    })
    const get = time(() => blocks.forEach((x) => readFileSync(path(x.cid))))
    return { put: mbs(put), get: mbs(get) }
  })
  const sqlite = () => inDir((_dir, db) => {
    db.run('CREATE TABLE bench_block_data (cid TEXT PRIMARY KEY, data BLOB NOT NULL)')
    const insert = db.query('INSERT OR IGNORE INTO bench_block_data (cid, data) VALUES (?, ?)')
    const select = db.query('SELECT data FROM bench_block_data WHERE cid = ?')
    const put = time(() => {
      for (let i = 0; i < n; i += 64) db.transaction(() => blocks.slice(i, i + 64).forEach((x) => insert.run(x.cid, x.b)))()
    })
    const get = time(() => blocks.forEach((x) => select.get(x.cid)))
    return { put: mbs(put), get: mbs(get) }
  })
  // The order turns each round: a way that runs after another pays for the page cache that one dirtied.
  const ways = { packs, files, sqlite }
  const order = (['packs', 'files', 'sqlite'] as const).map((_, i, all) => all[(i + round) % all.length])
  const out = {} as Record<keyof typeof ways, { put: number; get: number }>
  for (const k of order) out[k] = ways[k]()
  return out
}

const loadStart = loadavg()[0]
const STORE_BLOCKS = quick ? 128 : 512
const storage = Array.from({ length: ROUNDS }, (_, i) => {
  process.stderr.write(`block storage, round ${i + 1} … `)
  const r = storageWays(STORE_BLOCKS, i)
  process.stderr.write(`put MB/s: packs ${r.packs.put.toFixed(0)}, files ${r.files.put.toFixed(0)}, SQLite ${r.sqlite.put.toFixed(0)}\n`)
  return r
})
const net = await bootNetwork(2, { topology: 'chain' })
type Path = 'bare' | 'fetch' | 'sync'
const runs: (Record<Path, number> & Record<`${Path}Cpu` | `${Path}Main`, number>)[] = []
const installs: Awaited<ReturnType<typeof installWays>>[] = []
let fileBytes = 0
try {
  const [author, reader] = net.nodes
  await author.net!.libp2p.handle(SINK_PROTOCOL, (stream) => {
    let got = 0
    stream.addEventListener('message', (e) => (got += e.data.byteLength))
    stream.addEventListener('remoteCloseWrite', () => {
      const count = new Uint8Array(8)
      new DataView(count.buffer).setBigUint64(0, BigInt(got))
      stream.send(count)
      void stream.close().catch(() => {})
    })
  })
  const sa = await owner(author)
  const sr = await owner(reader)
  // Every round syncs a MiMei the reader has never seen: one file per round, made up front.
  const files = []
  for (let i = 0; i < ROUNDS; i++) files.push(await makeFile(author, sa, `f${i}`, BYTES))
  for (const [i, f] of files.entries()) {
    process.stderr.write(`round ${i + 1}: `)
    const bare = await withCpu(() => sendLibp2p(reader.net!.libp2p, tcpAddr(author), Math.ceil(BYTES / 65536) * 65536))
    const fetched = await withCpu(() => fetchOnly(reader, author, f.cids))
    const synced = await withCpu(async () => {
      const t0 = performance.now()
      const r = (await callLocal(reader, 'MiMeiSync', sr, f.mid)) as SyncResult
      return { r, bytes: r.bytes, ms: performance.now() - t0 }
    })
    const r = synced.r
    fileBytes = r.bytes
    const mbs = (b: number, ms: number) => b / 1e6 / (ms / 1000)
    const perMB = (x: { bytes: number }, ms: number) => ms / (x.bytes / 1e6)
    runs.push({
      bare: mbs(bare.bytes, bare.ms),
      fetch: mbs(fetched.bytes, fetched.ms),
      sync: mbs(r.bytes, synced.ms),
      bareCpu: perMB(bare, bare.cpu),
      fetchCpu: perMB(fetched, fetched.cpu),
      syncCpu: perMB(synced, synced.cpu),
      bareMain: perMB(bare, bare.main),
      fetchMain: perMB(fetched, fetched.main),
      syncMain: perMB(synced, synced.main),
    })
    const last = runs.at(-1)!
    process.stderr.write(
      `bare ${last.bare.toFixed(1)}, /leither/block ${last.fetch.toFixed(1)}, MiMeiSync ${last.sync.toFixed(1)} MB/s (${r.blocks} blocks); CPU ms/MB (process / main thread) bare ${last.bareCpu.toFixed(2)} / ${last.bareMain.toFixed(2)}, /leither/block ${last.fetchCpu.toFixed(2)} / ${last.fetchMain.toFixed(2)}, MiMeiSync ${last.syncCpu.toFixed(2)} / ${last.syncMain.toFixed(2)}\n`,
    )
    const inst = await installWays(reader, r, i)
    installs.push(inst)
    process.stderr.write(`  install as cur: on a worker ${inst.worker.ms.toFixed(0)} ms (longest loop gap ${inst.worker.gap.toFixed(0)} ms), in one turn ${inst.oneTurn.ms.toFixed(0)} ms (gap ${inst.oneTurn.gap.toFixed(0)} ms)\n`)
  }
} finally {
  await net.stop()
}
const loadEnd = loadavg()[0]

const bare = median(runs.map((r) => r.bare))
const row = (name: string, path: Path) => {
  const v = median(runs.map((r) => r[path]))
  return [
    name,
    v.toFixed(1),
    `${((v / bare) * 100).toFixed(0)} %`,
    runs.map((r) => r[path].toFixed(1)).join(', '),
    median(runs.map((r) => r[`${path}Cpu`])).toFixed(2),
    median(runs.map((r) => r[`${path}Main`])).toFixed(2),
  ]
}
/** The commit measured: LEITHER_BENCH_COMMIT when run from an exported tree, else the checkout's HEAD. */
const commit = process.env.LEITHER_BENCH_COMMIT || Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD']).stdout.toString().trim() || 'unknown'
writeSection(
  'MiMei block transfer',
  [
    `${machineLine()} Commit ${commit}. Noise cipher: ${selectNoiseCrypto().cipher}. Two nodes in one process on 127.0.0.1.`,
    `1-minute load average ${loadStart.toFixed(1)} at the start, ${loadEnd.toFixed(1)} at the end (2 cores, shared).`,
    '',
    `A ${(fileBytes / 1e6).toFixed(0)} MB file MiMei (random bytes, 256 KiB blocks), ${ROUNDS} rounds; each round, one after another: the same bytes on one bare libp2p stream (TCP + Noise + Yamux, 64 KiB writes) from the reader to the author; the version's blocks over /leither/block alone (${IN_FLIGHT} requests of ${MAX_BLOCKS_PER_REQUEST} in flight, hash-checked, not stored); MiMeiSync of a MiMei the reader has not seen (DAG walk, fetch, check, store, install). Median round shown. CPU, ms per MB moved: this process (both nodes, every thread), and its main thread alone (both nodes' event loop; /proc schedstat), which a wait for a CPU does not inflate.`,
    '',
    table(['path', 'MB/s', 'of bare stream', 'rounds', 'CPU ms/MB', 'main thread CPU ms/MB'], [row('bare libp2p stream', 'bare'), row('/leither/block, not stored', 'fetch'), row('MiMeiSync (stored, installed)', 'sync')], ' rrrrr'),
    '',
    `Installing the synced version as \`cur\` of a new MiMei on the reader after each round (its blocks all there), two ways in an order that turns each round: as MiMeiSync does (the bytes copied on a worker thread, then moved in by the transaction) and in one turn of the event loop inside the transaction (installVersionNow; every install before commit 6fceb0b). Longest gap: between two firings of a 5 ms timer during the install. Median round shown.`,
    '',
    table(
      ['install', 'ms', 'longest event-loop gap, ms', 'ms, rounds', 'gap, rounds'],
      (['worker', 'oneTurn'] as const).map((k) => [
        { worker: 'copy on a worker, then moved in', oneTurn: 'in one turn (installVersionNow)' }[k],
        median(installs.map((x) => x[k].ms)).toFixed(0),
        median(installs.map((x) => x[k].gap)).toFixed(0),
        installs.map((x) => x[k].ms.toFixed(0)).join(', '),
        installs.map((x) => x[k].gap.toFixed(0)).join(', '),
      ]),
      ' rrrr',
    ),
    '',
    `Block storage, before the transfer in the same run: ${STORE_BLOCKS} random 256 KiB blocks put, then read back, ${ROUNDS} rounds (median shown), each way in a fresh temp dir with the node's database settings, the order of the ways turning each round. Pack files: the node's block store (runtime/mimei/packs.ts). One file per block: written to a temp name and renamed, plus its row, as the store kept blocks before. SQLite: the bytes in a table, 64 blocks a transaction.`,
    '',
    table(
      ['way', 'put MB/s', 'get MB/s', 'put, rounds'],
      (['packs', 'files', 'sqlite'] as const).map((k) => [
        { packs: 'pack files (the node)', files: 'one file per block + row', sqlite: 'blocks in SQLite' }[k],
        median(storage.map((r) => r[k].put)).toFixed(0),
        median(storage.map((r) => r[k].get)).toFixed(0),
        storage.map((r) => r[k].put.toFixed(0)).join(', '),
      ]),
      ' rrr',
    ),
  ].join('\n'),
  { quick, file: out },
)
