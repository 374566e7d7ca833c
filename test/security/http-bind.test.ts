// Issue 8 defect 6: `leither run` serves HTTP on loopback only unless --host opens it, and says so when it does.
import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_CONFIG } from '../../runtime/config/index.ts'
import { startNode, tempDir } from '../helpers/node.ts'

/** A non-loopback IPv4 address of this machine, if it has one. */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address

/** The node's log files, which it writes before it prints its ready line. */
const logOf = (dir: string) =>
  readdirSync(join(dir, 'logs'))
    .map((f) => readFileSync(join(dir, 'logs', f), 'utf8'))
    .join('')

/** Resolves with the HTTP status, or 'refused' when nothing listens there. */
const probe = (url: string) =>
  fetch(url).then(
    (r) => r.status,
    () => 'refused' as const,
  )

describe('HTTP bind address', () => {
  test('by default the node binds 127.0.0.1 and logs it', async () => {
    expect(DEFAULT_CONFIG.host).toBe('127.0.0.1')
    using dir = tempDir()
    await using node = await startNode(['--data', dir, '--port', '0'])
    const port = new URL(node.url).port
    expect(logOf(dir)).toMatch(/\[http\] listening host=127\.0\.0\.1 /)
    expect(logOf(dir)).not.toContain('open to the network')
    expect(await probe(`http://127.0.0.1:${port}/getvar?name=port`)).toBe(200)
    if (lanAddress) expect(await probe(`http://${lanAddress}:${port}/getvar?name=port`)).toBe('refused')
  })

  test('--host 0.0.0.0 opens it to the network, with a log line saying so', async () => {
    using dir = tempDir()
    await using node = await startNode(['--data', dir, '--port', '0', '--host', '0.0.0.0'])
    const port = new URL(node.url).port
    expect(logOf(dir)).toMatch(/WARN .*\[http\] HTTP and RPC are open to the network/)
    if (lanAddress) expect(await probe(`http://${lanAddress}:${port}/getvar?name=port`)).toBe(200)
  })
})
