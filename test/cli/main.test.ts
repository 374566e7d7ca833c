// The `leither` command line: help everywhere, strict flags, init/id/key/version, config and env.
import { describe, expect, test } from 'bun:test'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { COMMANDS } from '../../runtime/main.ts'
import { cli, tempDir } from '../helpers/node.ts'
import pkg from '../../package.json' with { type: 'json' }

describe('help', () => {
  test('every command answers --help with its usage and flags, exit 0', async () => {
    for (const c of COMMANDS) {
      const r = await cli([...c.name.split(' '), '--help'])
      expect(r.code).toBe(0)
      expect(r.stdout).toContain(`Usage: leither ${c.name}`)
      for (const f of c.flags) expect(r.stdout).toContain(`--${f.name}`)
    }
  })

  test('leither --help and leither help list every command', async () => {
    for (const args of [['--help'], ['help']]) {
      const r = await cli(args)
      expect(r.code).toBe(0)
      for (const c of COMMANDS) expect(r.stdout).toContain(c.name)
    }
    expect((await cli(['help', 'key', 'new'])).stdout).toContain('Usage: leither key new')
  })
})

describe('errors', () => {
  test('unknown flags, bad values and unknown commands: one line on stderr, exit 2', async () => {
    const cases: [string[], string][] = [
      [['run', '--bogus'], 'unknown flag --bogus'],
      [['run', '--port', 'abc'], '--port must be an integer 0..65535'],
      [['run', '--port', '70000'], '--port must be an integer 0..65535'],
      [['run', '--port'], '--port needs a value'],
      [['run', '--log-level', 'loud'], '--log-level must be one of debug, info, warn, error'],
      [['id', 'extra'], 'unexpected argument "extra"'],
      [['frobnicate'], 'unknown command "frobnicate"'],
      [['key', 'rotate'], 'unknown subcommand "rotate"'],
      [['version', '-x'], 'unknown flag -x'],
    ]
    for (const [args, message] of cases) {
      const r = await cli(args)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(message)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stdout).toBe('')
    }
  })

  test('a bad value in leither.json is refused with exit 2 naming the key', async () => {
    using dir = tempDir()
    writeFileSync(join(dir, 'leither.json'), JSON.stringify({ port: 'x' }))
    const r = await cli(['run', '--data', dir])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('port must be an integer 0..65535')
    writeFileSync(join(dir, 'leither.json'), '{ not json')
    const r2 = await cli(['run', '--data', dir])
    expect(r2.code).toBe(2)
    expect(r2.stderr).toContain('is not valid JSON')
  })

  test('LEITHER_PORT with garbage is refused', async () => {
    using dir = tempDir()
    const r = await cli(['run', '--data', dir], { env: { LEITHER_PORT: '48x' } })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('LEITHER_PORT: port must be')
  })
})

describe('init, id, keys, version', () => {
  test('init creates config, node key and owner key with private permissions; id reports them', async () => {
    using dir = tempDir()
    const r = await cli(['init', '--data', dir])
    expect(r.code).toBe(0)
    const nodeid = /nodeid\s+(\S+)/.exec(r.stdout)![1]
    const owner = /owner\s+(\S+)/.exec(r.stdout)![1]
    expect(nodeid).toMatch(/^[A-Za-z0-9_-]{27}$/)
    expect(owner).toMatch(/^[A-Za-z0-9_-]{27}$/)
    const config = JSON.parse(readFileSync(join(dir, 'leither.json'), 'utf8'))
    expect(config).toMatchObject({ port: 4800, p2pPort: 4801, logLevel: 'info', owner })
    expect(statSync(join(dir, 'keys', 'node.key')).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, 'keys', 'users', `${owner}.key`)).mode & 0o777).toBe(0o600)

    const again = await cli(['init', '--data', dir])
    expect(again.stdout).toContain('already initialized')
    expect(again.stdout).toContain(nodeid)

    const id = await cli(['id', '--data', dir, '--json'])
    expect(id.code).toBe(0)
    const info = JSON.parse(id.stdout)
    expect(info.nodeid).toBe(nodeid)
    expect(info.owner).toBe(owner)
    expect(info.peerid).toMatch(/^12D3KooW/)
    expect(info.addrs.p2p).toBe(`/ip4/127.0.0.1/tcp/4801/p2p/${info.peerid}`)
  })

  test('id on an empty dir says to run init, exit 1', async () => {
    using dir = tempDir()
    const r = await cli(['id', '--data', dir])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('leither init')
    expect(existsSync(join(dir, 'keys'))).toBe(false)
  })

  test('key new prints a 27-char id; list shows it; export round-trips; duplicates are refused', async () => {
    using dir = tempDir()
    await cli(['init', '--data', dir])
    const made = await cli(['key', 'new', '--name', 'alice', '--data', dir])
    expect(made.code).toBe(0)
    const id = made.stdout.trim()
    expect(id).toMatch(/^[A-Za-z0-9_-]{27}$/)
    const list = JSON.parse((await cli(['key', 'list', '--json', '--data', dir])).stdout)
    expect(list.map((k: any) => k.name).sort()).toEqual(['alice', 'owner'])
    expect(list.find((k: any) => k.owner).name).toBe('owner')
    const exported = JSON.parse((await cli(['key', 'export', 'alice', '--data', dir])).stdout)
    expect(exported.id).toBe(id)
    expect(exported.secretKey).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const dup = await cli(['key', 'new', '--name', 'alice', '--data', dir])
    expect(dup.code).toBe(2)
    expect(dup.stderr).toContain('already exists')
    const missing = await cli(['key', 'export', 'nobody', '--data', dir])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('NotFound')
  })

  test('LEITHER_DATA chooses the data dir when --data is absent', async () => {
    using dir = tempDir()
    const r = await cli(['init'], { env: { LEITHER_DATA: dir } })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`initialized ${dir}`)
    expect(existsSync(join(dir, 'keys', 'node.key'))).toBe(true)
  })

  test('version prints the package version', async () => {
    const r = await cli(['version'])
    expect(r.code).toBe(0)
    expect(r.stdout).toStartWith(`leither ${pkg.version} `)
  })
})
