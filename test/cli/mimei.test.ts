// `leither mimei …` and `leither gc` against a running node: databases from the shell.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cli, startNode, tempDir, type RunningNode } from '../helpers/node.ts'

let dir: string & Disposable
let node: RunningNode
beforeAll(async () => {
  dir = tempDir()
  node = await startNode(['--data', dir, '--port', '0', '--host', '127.0.0.1'])
})
afterAll(async () => {
  await node.stop()
  dir[Symbol.dispose]()
})

const run = (...args: string[]) => cli([...args, '--data', dir, '--node', node.url])

describe('leither mimei', () => {
  test('create is idempotent for the same app/ext/mark; --auto makes a new one', async () => {
    const a = await run('mimei', 'create', '--app', 'notes', '--ext', 'list')
    expect(a.code).toBe(0)
    const mid = a.stdout.trim()
    expect(mid).toMatch(/^[A-Za-z0-9_-]{27}$/)
    expect((await run('mimei', 'create', '--app', 'notes', '--ext', 'list')).stdout.trim()).toBe(mid)
    const other = (await run('mimei', 'create', '--app', 'notes', '--ext', 'list', '--auto')).stdout.trim()
    expect(other).not.toBe(mid)
    const ls = JSON.parse((await run('mimei', 'ls', '--app', 'notes', '--json')).stdout)
    expect(ls.map((r: { mid: string }) => r.mid).sort()).toEqual([mid, other].sort())
  })

  test('put, get, backup, versions, restore and reading an old version', async () => {
    const mid = (await run('mimei', 'create', '--app', 'cli-test')).stdout.trim()
    expect((await run('mimei', 'put', mid, 'greeting', '{"text":"hello","n":{"$bigint":"123456789012345678901"}}')).code).toBe(0)
    expect(JSON.parse((await run('mimei', 'get', mid, 'greeting')).stdout)).toEqual({ text: 'hello', n: { $bigint: '123456789012345678901' } })
    const ver = (await run('mimei', 'backup', mid, '--memo', 'first')).stdout.trim()
    expect(ver).toBe('1')
    await run('mimei', 'put', mid, 'greeting', 'plain words')
    expect(JSON.parse((await run('mimei', 'get', mid, 'greeting')).stdout)).toBe('plain words')
    expect(JSON.parse((await run('mimei', 'get', `${mid}:1`, 'greeting')).stdout).text).toBe('hello')
    const versions = JSON.parse((await run('mimei', 'versions', mid, '--json')).stdout)
    expect(versions.last).toBe(1)
    expect(versions.versions[0].memo).toBe('first')
    expect((await run('mimei', 'versions', mid)).stdout).toContain('first  (last)')
    expect((await run('mimei', 'release', mid, '1')).stdout.trim()).toBe('1')
    expect((await run('mimei', 'restore', mid, '1')).code).toBe(0)
    expect(JSON.parse((await run('mimei', 'get', mid, 'greeting')).stdout).text).toBe('hello')
    const info = JSON.parse((await run('mimei', 'info', mid)).stdout)
    expect(info).toMatchObject({ mid, app: 'cli-test', type: 2, last: 1, release: 1 })
  })

  test('gc reports what it collected; errors print the node text and exit 1', async () => {
    const gc = await run('gc', '--grace', '0')
    expect(gc.code).toBe(0)
    expect(gc.stdout).toMatch(/^collected \d+ blocks/)
    const missing = await run('mimei', 'info', 'no-such-mimei')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toStartWith('NotFound: no MiMei')
    const usage = await run('mimei', 'release', 'x')
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('usage: leither mimei release MID VER')
  })
})

describe('leither mimei with file trees', () => {
  test('put a local file, cat and get it back, also from a version', async () => {
    using work = tempDir('leither-files-')
    const { writeFileSync, readFileSync } = await import('node:fs')
    const { join } = await import('node:path')
    const src = join(work, 'photo.bin')
    const bytes = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 31) & 0xff)
    writeFileSync(src, bytes)
    const mid = (await run('mimei', 'create', '--app', 'album', '--type', 'file')).stdout.trim()
    const put = await run('mimei', 'put', mid, 'pics/photo.bin', src)
    expect(put.code).toBe(0)
    expect(put.stdout).toContain(`${bytes.length} bytes written`)
    const out = join(work, 'back.bin')
    expect((await run('mimei', 'get', mid, 'pics/photo.bin', '--out', out)).code).toBe(0)
    expect(Buffer.compare(readFileSync(out), Buffer.from(bytes))).toBe(0)
    writeFileSync(join(work, 'note.txt'), 'first')
    await run('mimei', 'put', mid, 'note.txt', join(work, 'note.txt'))
    expect((await run('mimei', 'backup', mid)).stdout.trim()).toBe('1')
    writeFileSync(join(work, 'note.txt'), 'second')
    await run('mimei', 'put', mid, 'note.txt', join(work, 'note.txt'))
    expect((await run('mimei', 'cat', mid, 'note.txt')).stdout).toBe('second')
    expect((await run('mimei', 'cat', `${mid}:1`, 'note.txt')).stdout).toBe('first')
    const wrong = await run('mimei', 'cat', (await run('mimei', 'create', '--app', 'x')).stdout.trim(), 'a')
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('cat reads files of a file MiMei')
  })
})
