// `leither call` against a running node: JSON in and out, owner login, errors as exit 1.
import { describe, expect, test, beforeAll, afterAll } from 'bun:test'
import { cli, startNode, tempDir, type RunningNode } from '../helpers/node.ts'
import pkg from '../../package.json' with { type: 'json' }

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

const call = (...args: string[]) => cli(['call', '--data', dir, '--node', node.url, ...args])

describe('leither call', () => {
  test('prints the result as JSON; plain words are strings', async () => {
    const r = await call('GetVar', 'ver')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toBe(pkg.version)
  })

  test('logs in as the owner for calls that take a session; --guest does not', async () => {
    const owner = JSON.parse((await cli(['id', '--json', '--data', dir])).stdout).owner
    const who = JSON.parse((await call('WhoAmI')).stdout)
    expect(who).toMatchObject({ userid: owner, kind: 'owner' })
    const guest = JSON.parse((await call('WhoAmI', '--guest')).stdout)
    expect(guest.kind).toBe('guest')
    const stats = JSON.parse((await call('MonitorStats')).stdout)
    expect(stats.find((s: { name: string }) => s.name === 'Login').count).toBeGreaterThanOrEqual(2)
  })

  test('BigInt, bytes and dates travel in their documented JSON forms', async () => {
    const value = { big: { $bigint: '123456789012345678901234' }, raw: { $bytes: 'AAEC/w==' }, when: { $date: '2020-01-02T03:04:05.678Z' }, list: [1, 'two', null] }
    const r = await call('Echo', JSON.stringify(value))
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual(value)
    const sig = JSON.parse((await call('Sign', 'hello')).stdout)
    expect(Buffer.from(sig.$bytes, 'base64')).toHaveLength(64)
  })

  test('an E reply prints its text and exits 1; an unreachable node too', async () => {
    const r = await call('NoSuchCall')
    expect(r.code).toBe(1)
    expect(r.stderr).toStartWith('NotFound: no syscall NoSuchCall')
    const bad = await call('GetVar')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('InvalidParams: GetVar is missing parameter name')
    const away = await cli(['call', '--data', dir, '--node', 'http://127.0.0.1:9', 'GetVar', 'ver'])
    expect(away.code).toBe(1)
    expect(away.stderr).toContain('cannot reach the node')
  })

  test('without a method: usage error, exit 2', async () => {
    const r = await cli(['call', '--data', dir])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('needs a METHOD')
  })
})
