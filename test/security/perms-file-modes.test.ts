// Issue 8 defect 10: the data dir is 0700 and the database, its WAL, keys and logs are 0600 — also when they were looser.
import { describe, expect, test } from 'bun:test'
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bootTest } from '../helpers/kernel.ts'
import { tempDir } from '../helpers/node.ts'

const mode = (path: string) => statSync(path).mode & 0o777

/** Every file the node keeps secret, with its mode (the database files, keys, logs). */
function secretFiles(dir: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const f of ['leither.db', 'leither.db-wal', 'leither.db-shm', 'leither.json']) if (existsSync(join(dir, f))) out[f] = mode(join(dir, f))
  for (const sub of ['keys', 'logs']) walk(dir, sub, out)
  return out
}

/** Files under `sub` (recursively) into `out`; folders must be 0700 as they are met. */
function walk(root: string, sub: string, out: Record<string, number>) {
  expect({ sub, mode: mode(join(root, sub)).toString(8) }).toEqual({ sub, mode: '700' })
  for (const f of readdirSync(join(root, sub), { withFileTypes: true })) {
    if (f.isDirectory()) walk(root, `${sub}/${f.name}`, out)
    else out[`${sub}/${f.name}`] = mode(join(root, sub, f.name))
  }
}

const expectPrivate = (dir: string) => {
  expect(mode(dir)).toBe(0o700)
  const files = secretFiles(dir)
  // The WAL files exist while the node runs: their modes are part of the check.
  expect(Object.keys(files)).toEqual(expect.arrayContaining(['leither.db', 'leither.db-wal', 'leither.db-shm']))
  for (const [name, m] of Object.entries(files)) expect({ name, mode: m.toString(8) }).toEqual({ name, mode: '600' })
}

describe.skipIf(process.platform === 'win32')('data dir modes', () => {
  test('a new data dir in an existing 0755 folder: 0700 dir, 0600 files', async () => {
    using parent = tempDir()
    const dir = join(parent, 'data')
    mkdirSync(dir, { mode: 0o755 })
    chmodSync(dir, 0o755)
    await using node = await bootTest({}, dir)
    expectPrivate(dir)
    await node.stop()
  })

  test('an existing data dir with loose modes is tightened on start', async () => {
    using parent = tempDir()
    const dir = join(parent, 'data')
    {
      await using first = await bootTest({}, dir)
      await first.stop()
    }
    // Loosen everything as an old version, a restore or a careless copy would leave it.
    chmodSync(dir, 0o755)
    const loosen = (path: string) => {
      chmodSync(path, 0o755)
      for (const f of readdirSync(path, { withFileTypes: true })) {
        if (f.isDirectory()) loosen(join(path, f.name))
        else chmodSync(join(path, f.name), 0o644)
      }
    }
    loosen(join(dir, 'keys'))
    loosen(join(dir, 'logs'))
    chmodSync(join(dir, 'leither.db'), 0o644)
    chmodSync(join(dir, 'leither.json'), 0o644)
    // Today's log file, as an older version could have created it.
    writeFileSync(join(dir, 'logs', `leither-${new Date().toISOString().slice(0, 10)}.log`), '', { mode: 0o644 })
    chmodSync(join(dir, 'logs', `leither-${new Date().toISOString().slice(0, 10)}.log`), 0o644)
    // Leftover WAL files from a crash, world-readable.
    writeFileSync(join(dir, 'leither.db-wal'), '', { mode: 0o644 })
    chmodSync(join(dir, 'leither.db-wal'), 0o644)
    await using second = await bootTest({}, dir)
    expectPrivate(dir)
    await second.stop()
  })
})
