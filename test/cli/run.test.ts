// `leither run` as a real process: ready line, HTTP GetVar, data-dir lock, clean shutdown.
import { describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pkg from '../../package.json' with { type: 'json' }
import { cli, startNode, tempDir } from '../helpers/node.ts'

const LOCAL = ['--port', '0', '--host', '127.0.0.1']

describe('leither run', () => {
  test('prints exactly one ready line and answers every public GetVar', async () => {
    using dir = tempDir()
    await using node = await startNode(['--data', dir, ...LOCAL])
    const port = Number(new URL(node.url).port)
    expect(port).toBeGreaterThan(0)
    const get = async (name: string) => (await fetch(`${node.url}/getvar?name=${name}`)).json()
    expect(await get('ver')).toBe(pkg.version)
    expect(await get('port')).toBe(port)
    const nodeid = await get('nodeid')
    expect(nodeid).toMatch(/^[A-Za-z0-9_-]{27}$/)
    expect(await get('peerid')).toMatch(/^12D3KooW/)
    const now = await get('now')
    expect(Math.abs(now - Date.now())).toBeLessThan(60_000)
    // Names are case-insensitive as in Leither.
    expect(await get('NodeID')).toBe(nodeid)
    const id = JSON.parse((await cli(['id', '--json', '--data', dir])).stdout)
    expect(id.nodeid).toBe(nodeid)
  })

  test('unknown routes and variables get 404 with a JSON error', async () => {
    using dir = tempDir()
    await using node = await startNode(['--data', dir, ...LOCAL])
    const r = await fetch(`${node.url}/no/such/thing`)
    expect(r.status).toBe(404)
    expect(r.headers.get('content-type')).toContain('application/json')
    expect((await r.json()).error).toStartWith('NotFound: no route /no/such/thing')
    const v = await fetch(`${node.url}/getvar?name=secretkey`)
    expect(v.status).toBe(404)
    expect((await v.json()).error).toContain('no public variable')
  })

  test('serves the bundled launcher page at /', async () => {
    using dir = tempDir()
    await using node = await startNode(['--data', dir, ...LOCAL])
    const r = await fetch(`${node.url}/`)
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toContain('text/html')
    const page = await r.text()
    expect(page).toContain('<title>Leither</title>')
    // Its script is a file of its own (no inline script), and it loads: the embedded launcher is whole.
    expect(page).toContain('<script type="module" src="/apps/launcher/app.js"></script>')
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect((await fetch(`${node.url}/apps/launcher/app.js`)).status).toBe(200)
    const m = await fetch(`${node.url}/apps/launcher/manifest.json`)
    expect((await m.json()).name).toBe('launcher')
    expect((await fetch(`${node.url}/apps/launcher/../../package.json`)).status).toBe(404)
  })

  test('first run writes leither.json with defaults; flags are not persisted into it', async () => {
    using dir = tempDir()
    await using node = await startNode(['--data', dir, ...LOCAL])
    const config = JSON.parse(readFileSync(join(dir, 'leither.json'), 'utf8'))
    expect(config.port).toBe(4800)
    expect(config.host).toBe('127.0.0.1')
    expect(config.owner).toMatch(/^[A-Za-z0-9_-]{27}$/)
    expect(await node.stop()).toBe(0)
  })

  test('LEITHER_PORT sets the port; --port wins over it', async () => {
    using dir = tempDir()
    const free = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
    const port = free.port
    free.stop(true)
    {
      await using node = await startNode(['--data', dir, '--host', '127.0.0.1'], { env: { LEITHER_PORT: String(port) } })
      expect(node.url).toBe(`http://127.0.0.1:${port}`)
      expect(await node.stop()).toBe(0)
    }
    await using node = await startNode(['--data', dir, ...LOCAL], { env: { LEITHER_PORT: String(port) } })
    expect(node.url).not.toBe(`http://127.0.0.1:${port}`)
  })

  test('a second node on the same data dir is refused and the first keeps serving', async () => {
    using dir = tempDir()
    await using first = await startNode(['--data', dir, ...LOCAL])
    const second = await cli(['run', '--data', dir, ...LOCAL])
    expect(second.code).toBe(1)
    expect(second.stderr).toContain(`data dir ${dir} is in use by another leither (pid ${first.proc.pid})`)
    expect((await fetch(`${first.url}/getvar?name=ver`)).status).toBe(200)
    expect(await first.stop()).toBe(0)
    expect(existsSync(join(dir, 'leither.lock'))).toBe(false)
  })

  test('a lock left by a killed node is taken over; the data survives', async () => {
    using dir = tempDir()
    const first = await startNode(['--data', dir, ...LOCAL])
    const nodeid = await (await fetch(`${first.url}/getvar?name=nodeid`)).json()
    await first.stop('SIGKILL')
    expect(existsSync(join(dir, 'leither.lock'))).toBe(true)
    await using again = await startNode(['--data', dir, ...LOCAL])
    expect(await (await fetch(`${again.url}/getvar?name=nodeid`)).json()).toBe(nodeid)
  })

  test('a lock naming a live foreign process is respected', async () => {
    using dir = tempDir()
    await cli(['init', '--data', dir])
    const holder = Bun.spawn(['sleep', '30'])
    try {
      writeFileSync(join(dir, 'leither.lock'), `${holder.pid}\n`)
      const r = await cli(['run', '--data', dir, ...LOCAL])
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`(pid ${holder.pid})`)
    } finally {
      holder.kill()
    }
  })

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal}: stops cleanly before the node's own 5 s deadline, closes the database, releases the lock`, async () => {
      using dir = tempDir()
      const node = await startNode(['--data', dir, ...LOCAL])
      expect(await node.stop(signal)).toBe(0)
      // The node enforces the 5 s bound itself (a 4.5 s timer in cli/run.ts that closes what is
      // left and logs it); a clean stop finished before that timer fired, by the node's clock,
      // so no wall-clock bound is needed here.
      expect(node.stderr()).not.toContain('shutdown deadline reached')
      expect(node.stderr()).toContain('stopped')
      expect(existsSync(join(dir, 'leither.lock'))).toBe(false)
      // A checkpointed, closed WAL database leaves no -wal content behind.
      const wal = join(dir, 'leither.db-wal')
      expect(!existsSync(wal) || readFileSync(wal).length === 0).toBe(true)
      const db = new Database(join(dir, 'leither.db'), { readonly: true })
      expect(db.query('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' })
      expect((db.query('SELECT max(version) AS v FROM schema_migrations').get() as any).v).toBeGreaterThan(0)
      db.close()
    })
  }

  test('logs go to stderr and to a daily file, without secrets', async () => {
    using dir = tempDir()
    const node = await startNode(['--data', dir, ...LOCAL, '--log-level', 'debug'])
    expect(await node.stop()).toBe(0)
    const files = readdirSync(join(dir, 'logs'))
    expect(files).toEqual([`leither-${new Date().toISOString().slice(0, 10)}.log`])
    const text = readFileSync(join(dir, 'logs', files[0]), 'utf8')
    expect(text).toContain('[http] listening')
    expect(text).toContain('DEBUG')
    const secret = JSON.parse(readFileSync(join(dir, 'keys', 'node.key'), 'utf8')).secretKey
    expect(text).not.toContain(secret)
    expect(node.stderr()).not.toContain(secret)
  })
})
