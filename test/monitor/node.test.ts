// A node under a known load: MonitorStats counts every call exactly, with latencies inside what the
// client measured; HTTP requests by route template; everything still there after a restart.
import { afterAll, describe, expect, test } from 'bun:test'
import { bootTest, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { tempDir } from '../helpers/node.ts'
import { callRemote } from '../../runtime/rpc/client.ts'
import { appHost as appHostLabel, appId } from '../../runtime/apps/ids.ts'
import { generateKeyPair } from '../../runtime/identity/index.ts'

const dir = tempDir()
afterAll(() => dir[Symbol.dispose]())

interface Row {
  node: string
  kind: string
  name: string
  count: number
  errors: number
  avgMs: number
  maxMs: number
  p95Ms: number
}

async function stats(node: TestKernel, opts: Record<string, unknown> = {}): Promise<Row[]> {
  const { sid } = (await callRemote(node.url, 'Login', [loginPassport(node)])) as { sid: string }
  return (await callRemote(node.url, 'MonitorStats', [sid, opts])) as Row[]
}

const row = (rows: Row[], kind: string, name: string) => rows.find((r) => r.kind === kind && r.name === name)

describe('monitor on a node', () => {
  const N = 60
  const FAILED = 7
  let client = { max: 0, total: 0, min: Infinity }

  test('every call of a known load is counted, latencies within the measured range', async () => {
    await using node = await bootTest({}, dir)
    for (let i = 0; i < N; i++) {
      const t0 = performance.now()
      expect(await callRemote(node.url, 'Echo', [i])).toBe(i)
      const ms = performance.now() - t0
      client = { max: Math.max(client.max, ms), total: client.total + ms, min: Math.min(client.min, ms) }
    }
    for (let i = 0; i < FAILED; i++) await expect(callRemote(node.url, 'Echo', [])).rejects.toThrow(/InvalidParams/)
    // /mm/<mid>/<path> is one route, whatever the MiMei and path; these are refused (none exist).
    for (const path of ['/mm/AAAA/a.txt', '/mm/BBBB/dir/b.txt', '/mm/CCCC/c']) expect((await fetch(node.url + path)).status).toBeGreaterThanOrEqual(400)
    expect((await fetch(`${node.url}/getvar?name=ver`)).status).toBe(200)
    expect((await fetch(`${node.url}/no/such/route`)).status).toBe(404)
    // Refused before any route (a page elsewhere), and an app origin's files (no such app here).
    expect((await fetch(`${node.url}/webapi/`, { method: 'POST', headers: { origin: 'http://evil.example' }, body: 'x' })).status).toBe(403)
    const appHost = `${appHostLabel(appId(generateKeyPair().id, 'nothing'))}.localhost:${node.http.port}`
    expect((await fetch(`${node.url}/index.html`, { headers: { host: appHost } })).status).toBe(404)

    const rows = await stats(node)
    const echo = row(rows, 'syscall', 'Echo')!
    expect(echo).toMatchObject({ node: '', count: N + FAILED, errors: FAILED })
    // The node's time for a call is part of the client's round trip for it.
    expect(echo.maxMs).toBeGreaterThan(0)
    expect(echo.maxMs).toBeLessThanOrEqual(client.max)
    expect(echo.avgMs).toBeLessThanOrEqual(echo.maxMs)
    expect(echo.p95Ms).toBeLessThanOrEqual(echo.maxMs)
    expect(echo.avgMs * (N + FAILED)).toBeLessThanOrEqual(client.total + FAILED * client.max)
    expect(row(rows, 'syscall', 'Login')).toMatchObject({ count: 1, errors: 0 })

    // HTTP: every POST of the load (and the Login) under one row; the MonitorStats request itself is counted after its reply.
    expect(row(rows, 'http', 'POST /webapi')).toMatchObject({ count: N + FAILED + 1, errors: 0 })
    expect(row(rows, 'http', 'GET /mm/*')).toMatchObject({ count: 3, errors: 3 })
    expect(row(rows, 'http', 'GET /getvar')).toMatchObject({ count: 1, errors: 0 })
    expect(row(rows, 'http', 'GET (no route)')).toMatchObject({ count: 1, errors: 1 })
    expect(row(rows, 'http', 'POST (refused: host or origin)')).toMatchObject({ count: 1, errors: 1 })
    expect(row(rows, 'http', 'GET (app origin files)')).toMatchObject({ count: 1, errors: 1 })
    expect(rows.some((r) => r.name.includes('AAAA') || r.name.includes('no/such'))).toBe(false)
    // Sorted by count, largest first.
    expect(rows.map((r) => r.count)).toEqual(rows.map((r) => r.count).sort((a, b) => b - a))
    // The dispatcher's since-start totals (Dispatcher.stats) agree.
    expect(node.dispatcher.stats().get('Echo')).toMatchObject({ count: N + FAILED, errors: FAILED })
  })

  test('the stats survive a restart', async () => {
    await using node = await bootTest({}, dir)
    const rows = await stats(node, { sort: 'max' })
    expect(row(rows, 'syscall', 'Echo')).toMatchObject({ count: N + FAILED, errors: FAILED })
    expect(row(rows, 'syscall', 'Login')!.count).toBe(2)
    expect(row(rows, 'syscall', 'MonitorStats')!.count).toBe(1)
    expect(rows.map((r) => r.maxMs)).toEqual(rows.map((r) => r.maxMs).sort((a, b) => b - a))
    // By hour: today's rows carry their hour.
    const hours = await stats(node, { granularity: 'hour', name: 'Echo' })
    expect(hours.reduce((n, r) => n + r.count, 0)).toBe(N + FAILED)
    for (const h of hours as (Row & { start: number })[]) expect(h.start % 3_600_000).toBe(0)
  })

  test('only the owner may read them; a session of another user is refused', async () => {
    await using node = await bootTest({}, dir)
    const { sid } = (await callRemote(node.url, 'Login', [loginPassport(node, generateKeyPair())])) as { sid: string }
    await expect(callRemote(node.url, 'MonitorStats', [sid, {}])).rejects.toThrow(/PermissionDenied: MonitorStats needs node.admin/)
    await expect(callRemote(node.url, 'MonitorStats', ['', {}])).rejects.toThrow(/PermissionDenied/)
  })
})
