// Two nodes run by one user: the first node's MonitorStats (and `leither monitor`) show the second's
// stats too, asked over HTTP with her passport; a node someone else runs refuses.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { bootTest, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { cli, tempDir } from '../helpers/node.ts'
import { callRemote } from '../../runtime/rpc/client.ts'

let a: TestKernel
let b: TestKernel
let stranger: TestKernel
const dirA = tempDir()
const dirB = tempDir()

beforeAll(async () => {
  a = await bootTest({}, dirA)
  // The same user runs b: her owner key is copied into b's data dir before its first start.
  const keyFile = `${a.config.owner}.key`
  mkdirSync(join(dirB, 'keys', 'users'), { recursive: true, mode: 0o700 })
  copyFileSync(join(dirA, 'keys', 'users', keyFile), join(dirB, 'keys', 'users', keyFile))
  b = await bootTest({}, dirB)
  stranger = await bootTest()
  expect(b.config.owner).toBe(a.config.owner)
  for (let i = 0; i < 3; i++) await callRemote(a.url, 'Echo', [i])
  for (let i = 0; i < 5; i++) await callRemote(b.url, 'Echo', [i])
})

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop(), stranger?.[Symbol.asyncDispose]()])
  dirA[Symbol.dispose]()
  dirB[Symbol.dispose]()
})

async function ownerSid(node: TestKernel): Promise<string> {
  return ((await callRemote(node.url, 'Login', [loginPassport(node)])) as { sid: string }).sid
}

interface Row {
  node: string
  kind: string
  name: string
  count: number
}

describe('stats of the nodes a user runs', () => {
  test("the second node's stats appear in the first node's MonitorStats", async () => {
    const rows = (await callRemote(a.url, 'MonitorStats', [await ownerSid(a), { node: ['', b.url], kind: 'syscall' }])) as Row[]
    const echo = rows.filter((r) => r.name === 'Echo').map((r) => [r.node, r.count])
    expect(echo).toEqual([
      [b.url, 5],
      ['', 3],
    ])
    // b saw a log in with the owner's passport and a MonitorStats call: the ones a made there.
    const onB = (await callRemote(b.url, 'MonitorStats', [await ownerSid(b), { kind: 'syscall' }])) as Row[]
    expect(onB.find((r) => r.name === 'MonitorStats')?.count).toBe(1)
    expect(onB.find((r) => r.name === 'Logout')?.count).toBe(1)
  })

  test('a node run by someone else refuses; an unreachable one is NotFound', async () => {
    const sid = await ownerSid(a)
    await expect(callRemote(a.url, 'MonitorStats', [sid, { node: stranger.url }])).rejects.toThrow(/^PermissionDenied: the node at http:\/\/127\.0\.0\.1:\d+ refused MonitorStats/)
    await expect(callRemote(a.url, 'MonitorStats', [sid, { node: 'http://127.0.0.1:1' }])).rejects.toThrow(/^NotFound: no node answers at http:\/\/127\.0\.0\.1:1/)
    await expect(callRemote(a.url, 'MonitorStats', [sid, { node: 'file:///etc/passwd' }])).rejects.toThrow(/^InvalidParams: MonitorStats: node must be/)
  })

  test('leither monitor prints one table for both nodes', async () => {
    const r = await cli(['monitor', '--data', dirA, '--node', a.url, '--node', b.url, '--kind', 'syscall', '--sort', 'count'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toBe(`${new Date().toISOString().slice(0, 10)} (UTC), 2 nodes, by count`)
    expect(lines[1]).toMatch(/^NODE\s+KIND\s+NAME\s+COUNT\s+ERRORS\s+AVG ms\s+P95 ms\s+MAX ms$/)
    const echo = lines.filter((l) => /\sEcho\s/.test(l)).map((l) => l.split(/\s+/).slice(0, 4))
    expect(echo).toEqual([
      [b.url, 'syscall', 'Echo', '5'],
      [a.url, 'syscall', 'Echo', '3'],
    ])
    const json = JSON.parse((await cli(['monitor', '--data', dirA, '--node', b.url, '--json', '--sort', 'max'])).stdout) as (Row & { maxMs: number })[]
    expect(json.map((x) => x.maxMs)).toEqual(json.map((x) => x.maxMs).sort((x, y) => y - x))
    expect((await cli(['monitor', '--help'])).stdout).toContain('--sort KEY')
    const bad = await cli(['monitor', '--data', dirA, '--day', '31.01.2026', '--node', a.url])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--day must be a date YYYY-MM-DD')
  })
})
