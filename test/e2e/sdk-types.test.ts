// leither.d.ts: every syscall row has a return type, and tsc checks a TypeScript app against the
// generated declarations (right types accepted, wrong ones refused).
import { afterAll, describe, expect, test } from 'bun:test'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SYSCALL_TABLES } from '../../syscalls/index.ts'
import { tempDir } from '../helpers/node.ts'

const root = join(import.meta.dir, '../..')
const dir = tempDir('sdk-types')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Runs the repo's tsc on one file against leither.d.ts; returns its diagnostics. */
function typeCheck(source: string): { ok: boolean; output: string } {
  const file = join(dir, `app-${Math.random().toString(36).slice(2)}.ts`)
  writeFileSync(file, source.replaceAll('LEITHER', join(root, 'runtime/http/static/leither.js')))
  const r = Bun.spawnSync(
    [process.execPath, join(root, 'node_modules/typescript/lib/tsc.js'), '--noEmit', '--strict', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler', '--lib', 'es2023,dom', file],
    { cwd: dir },
  )
  return { ok: r.exitCode === 0, output: `${r.stdout.toString()}${r.stderr.toString()}` }
}

describe('leither.d.ts', () => {
  test('every syscall row says what it returns as a TypeScript type', () => {
    const untyped = SYSCALL_TABLES.flat()
      .filter((row) => !row.returnsType)
      .map((row) => row.name)
    expect(untyped).toEqual([])
  })

  test('tsc accepts an app that uses the real return types and event payloads', () => {
    const r = typeCheck(`
      import { LeitherClient, LeitherError, TransportError, type FileInfo, type InboxMessage, type PubEvent } from 'LEITHER'
      const client = new LeitherClient(undefined, { transport: 'auto', reconnectMaxMs: 5000 })
      const login = await client.login('ppt')
      const owner: boolean = login.owner
      const handle: string = await client.MMOpen('mid', 'cur')
      const files: FileInfo[] = await client.MFReaddir('fsid', 10)
      const when: Date = files[0].modTime
      const score: number | null = await client.Zscore(handle, 'k', 'm')
      const queued: 0 | 1 | 'QUEUED' = await client.Hset(handle, 'k', 'f', 1)
      const kind: 'guest' | 'user' | 'owner' = (await client.WhoAmI()).kind
      const apps = await client.AppList()
      const url: string = apps[0].url
      const items = await client.PullMsg(5)
      for (const item of items) if (item.kind === 'pub') { const topic: string = item.topic }
      const stop = client.on('message', (m: InboxMessage) => { const from: string = m.from })
      client.on('pubsub', (e: PubEvent) => { const data: unknown = e.data })
      client.on('disconnect', (e) => { const code: number = e.code })
      stop()
      const how: 'ws' | 'http' = client.transport
      try { await client.Echo(1) } catch (e) { if (e instanceof TransportError && e instanceof LeitherError) { const code: string = e.code } }
      export { owner, when, score, queued, kind, url, how }
    `)
    expect(r.output).toBe('')
    expect(r.ok).toBe(true)
  })

  test('tsc refuses wrong uses: each line below is an error', () => {
    const wrong = [
      `const n: number = await client.MMOpen('mid', 'cur')`,
      `const s: string = (await client.MFStat('fsid')).size`,
      `const a: string[] = await client.UserList()`,
      `client.on('message', (m) => { const t: string = m.topic })`,
      `client.on('no-such-event', () => {})`,
      `await client.MMOpen(1, 'cur')`,
    ]
    // One run: the file's lines 3.. are the wrong ones, and each of them (and nothing else) is an error.
    const r = typeCheck(`import { LeitherClient } from 'LEITHER'\nconst client = new LeitherClient()\n${wrong.join('\n')}\nexport {}\n`)
    const errorLines = new Set([...r.output.matchAll(/app-\w+\.ts\((\d+),\d+\): error TS\d+/g)].map((m) => Number(m[1])))
    expect(wrong.filter((_, i) => !errorLines.has(i + 3))).toEqual([])
    expect([...errorLines].filter((n) => n < 3 || n >= 3 + wrong.length)).toEqual([])
    expect(r.output).not.toContain('leither.d.ts(')
    expect(r.ok).toBe(false)
  })
})
