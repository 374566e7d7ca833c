// `leither mimei …` and `leither gc`: MiMei from the shell, through a running node, as its owner.
import { createWriteStream, openSync, readSync, closeSync, statSync } from 'node:fs'
import { InvalidParams } from '../errors.ts'
import { UsageError, type Parsed } from './args.ts'
import { fromJson, toJson } from './call.ts'
import { withOwnerSession, type NodeSession } from './session.ts'

const CHUNK = 1024 * 1024
const O_RDONLY = 0
const O_WRONLY_CREATE_TRUNC = 0x1 | 0x40 | 0x200


const print = (v: unknown) => console.log(JSON.stringify(toJson(v), null, 2))
const need = (p: Parsed, n: number, usage: string) => {
  if (p.args.length < n) throw new UsageError(`usage: leither ${usage}`)
}

/** "MID" or "MID:VER". */
function midVer(text: string): { mid: string; ver: string } {
  const at = text.indexOf(':')
  return at < 0 ? { mid: text, ver: 'cur' } : { mid: text.slice(0, at), ver: text.slice(at + 1) }
}

/** A one-line progress bar on stderr, only when a person is watching. */
function progress(label: string, total: number) {
  const tty = process.stderr.isTTY
  let last = 0
  return (done: number) => {
    if (!tty || (done < total && Date.now() - last < 100)) return
    last = Date.now()
    const pct = total ? Math.floor((done / total) * 100) : 100
    const bar = '#'.repeat(Math.floor(pct / 4)).padEnd(25, '.')
    process.stderr.write(`\r${label} [${bar}] ${(done / 1e6).toFixed(1)}/${(total / 1e6).toFixed(1)} MB ${pct}%${done >= total ? '\n' : ''}`)
  }
}

export const mimeiCreate = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    const type = p.flags.type === 'file' ? 1 : 2
    const mark = p.flags.auto ? '{{auto}}' : ((p.flags.mark as string | undefined) ?? '')
    const everyone = p.flags.public ? 1 : 0
    console.log(await s.call('MMCreate', [s.sid, p.flags.app ?? '', p.flags.ext ?? '', mark, type, everyone]))
    return 0
  })

export const mimeiLs = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    const rows = (await s.call('MMList', [s.sid, p.flags.app, 0, 1000])) as Record<string, unknown>[]
    if (p.flags.json) print(rows)
    else if (!rows.length) console.log('no MiMei yet (create one: leither mimei create --app NAME)')
    else
      for (const r of rows) {
        const kind = r.type === 1 ? 'file' : 'db  '
        console.log(`${r.mid}  ${kind}  ${String(r.app || '-').padEnd(12)} ${String(r.ext || '-').padEnd(10)} last=${r.last ?? '-'} ${r.bytes} B`)
      }
    return 0
  })

export const mimeiInfo = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    need(p, 1, 'mimei info MID')
    print(await s.call('GetVar', [s.sid, 'mminfo', p.args[0]]))
    return 0
  })

export const mimeiVersions = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    need(p, 1, 'mimei versions MID')
    const v = (await s.call('GetVar', [s.sid, 'mmversions', p.args[0]])) as { last: number; release: number; versions: Record<string, unknown>[] }
    if (p.flags.json) print(v)
    else if (!v.versions.length) console.log('no versions yet (make one: leither mimei backup MID)')
    else
      for (const r of v.versions) {
        const tags = [r.ver === v.last ? 'last' : '', r.ver === v.release ? 'release' : ''].filter(Boolean).join(',')
        console.log(`${String(r.ver).padStart(4)}  ${r.cid}  ${new Date((r.created as number) * 1000).toISOString()}  ${r.memo}${tags ? `  (${tags})` : ''}`)
      }
    return 0
  })

export const mimeiBackup = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    need(p, 1, 'mimei backup MID [--memo TEXT]')
    console.log(await s.call('MMBackup', [s.sid, p.args[0], p.flags.memo ?? '']))
    return 0
  })

export const mimeiRelease = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    need(p, 2, 'mimei release MID VER')
    console.log(await s.call('MMRelease', [s.sid, p.args[0], p.args[1]]))
    return 0
  })

export const mimeiRestore = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    need(p, 2, 'mimei restore MID VER')
    console.log(await s.call('MMRestore', [s.sid, p.args[0], p.args[1]]))
    return 0
  })

async function openVersion(s: NodeSession, spec: string) {
  const { mid, ver } = midVer(spec)
  const info = (await s.call('GetVar', [s.sid, 'mminfo', mid])) as { type: number }
  const handle = String(await s.call('MMOpen', [s.sid, mid, ver]))
  return { mid, ver, type: info.type, handle }
}

/** Streams a file of a file MiMei to `write`, chunk by chunk. */
async function readFile(s: NodeSession, handle: string, path: string, write: (b: Uint8Array) => void, label: string) {
  const fsid = await s.call('MFOpenByPath', [s.sid, handle, path, O_RDONLY])
  try {
    const size = Number(await s.call('MFGetSize', [fsid]))
    const tick = progress(label, size)
    for (let off = 0; off < size; off += CHUNK) {
      const chunk = (await s.call('MFGetData', [fsid, off, Math.min(CHUNK, size - off)])) as Uint8Array
      write(chunk)
      tick(off + chunk.length)
    }
    if (size === 0) tick(0)
  } finally {
    await s.call('MFClose', [fsid]).catch(() => {})
  }
}

export const mimeiCat = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    need(p, 2, 'mimei cat MID[:VER] PATH')
    const { handle, type } = await openVersion(s, p.args[0])
    if (type !== 1) throw new InvalidParams('cat reads files of a file MiMei; for a database use: leither mimei get MID KEY')
    await readFile(s, handle, p.args[1], (b) => process.stdout.write(b), p.args[1])
    return 0
  })

/** get MID[:VER] KEY (database: the value as JSON) or MID[:VER] PATH [--out FILE] (file tree). */
export const mimeiGet = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    need(p, 2, 'mimei get MID[:VER] KEY|PATH [--out FILE]')
    const { handle, type } = await openVersion(s, p.args[0])
    if (type === 2) {
      print(await s.call('Get', [handle, p.args[1]]))
      return 0
    }
    const out = p.flags.out as string | undefined
    if (!out) {
      await readFile(s, handle, p.args[1], (b) => process.stdout.write(b), p.args[1])
      return 0
    }
    const stream = createWriteStream(out)
    await readFile(s, handle, p.args[1], (b) => stream.write(b), out)
    await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())))
    return 0
  })

/** put MID KEY JSON (database) or MID PATH FILE|- (file tree, from a local file or stdin). */
export const mimeiPut = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    need(p, 3, 'mimei put MID KEY JSON | mimei put MID PATH FILE|-')
    const [mid, target, source] = p.args
    const { handle, type } = await openVersion(s, mid)
    if (type === 2) {
      let value: unknown
      try {
        value = fromJson(JSON.parse(source))
      } catch {
        value = source
      }
      print(await s.call('Set', [handle, target, value]))
      return 0
    }
    // Like `cp` into a new folder: the folders on the way are made first.
    const dir = target.replace(/^\/+/, '').split('/').slice(0, -1).join('/')
    if (dir) await s.call('FSMkDir', [s.sid, handle, dir])
    const fsid = await s.call('MFOpenByPath', [s.sid, handle, target, O_WRONLY_CREATE_TRUNC])
    try {
      const fd = source === '-' ? 0 : openSync(source, 'r')
      const total = source === '-' ? 0 : statSync(source).size
      const tick = progress(target, total)
      const buf = new Uint8Array(CHUNK)
      let off = 0
      try {
        for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
          await s.call('MFSetData', [fsid, buf.slice(0, n), off])
          off += n
          tick(off)
        }
      } finally {
        if (fd !== 0) closeSync(fd)
      }
      console.log(`${off} bytes written to ${target}`)
    } finally {
      await s.call('MFClose', [fsid]).catch(() => {})
    }
    return 0
  })

export const gcCommand = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    const r = (await s.call('MMGc', [s.sid, p.flags.grace ?? 3600])) as { blocks: number; bytes: number }
    console.log(`collected ${r.blocks} blocks, ${(r.bytes / 1e6).toFixed(1)} MB`)
    return 0
  })

// — across nodes —

export const mimeiPublish = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    need(p, 1, 'mimei publish MID')
    print(await s.call('MiMeiPublish', [s.sid, p.args[0]]))
    return 0
  })

export const mimeiProvide = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    need(p, 1, 'mimei provide MID')
    print(await s.call(p.flags.stop ? 'MiMeiUnprovide' : 'MiMeiProvide', [s.sid, p.args[0]]))
    return 0
  })

export const mimeiFindProvs = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    need(p, 1, 'mimei findprovs MID')
    const provs = (await s.call('MiMeiFindProvs', [s.sid, p.args[0], p.flags.ver])) as { peer: string; addrs: string[] }[]
    if (p.flags.json) print(provs)
    else if (!provs.length) console.log('no providers found')
    else for (const r of provs) console.log(`${r.peer}  ${r.addrs.join(' ')}`)
    return 0
  })

/** Starts a sync and shows its progress until it ends (Ctrl-C cancels it on the node too). */
export const mimeiSync = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    need(p, 1, 'mimei sync MID[:VER]')
    const { mid, ver } = midVer(p.args[0])
    const options: Record<string, unknown> = { wait: false, depth: p.flags.depth ?? 1 }
    if (ver !== 'cur') options.ver = Number(ver)
    await s.call('MiMeiSync', [s.sid, mid, options])
    const cancel = () => void s.call('MiMeiSyncCancel', [s.sid, mid]).finally(() => process.exit(130))
    process.once('SIGINT', cancel)
    try {
      for (;;) {
        const st = (await s.call('MiMeiSyncStatus', [s.sid, mid])) as { state: string; ver?: number; blocks: number; bytes: number; reused: number; error?: string } | null
        if (process.stderr.isTTY && st) process.stderr.write(`\r${st.state} v${st.ver ?? '?'}: ${st.blocks} blocks, ${(st.bytes / 1e6).toFixed(1)} MB (${st.reused} already here)   `)
        if (!st || st.state === 'done' || st.state === 'failed' || st.state === 'cancelled') {
          if (process.stderr.isTTY) process.stderr.write('\n')
          if (st?.state !== 'done') {
            console.error(st?.error ?? `sync ${st?.state ?? 'did not start'}`)
            return 1
          }
          print(st)
          return 0
        }
        await Bun.sleep(200)
      }
    } finally {
      process.off('SIGINT', cancel)
    }
  })
