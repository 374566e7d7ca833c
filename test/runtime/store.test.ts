// The SQLite store: WAL mode, migrations once and in order, a newer schema refused.
import { describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import { migrate, openDatabase, store } from '../../runtime/store/index.ts'
import { createLogger } from '../../runtime/log/index.ts'
import { DEFAULT_CONFIG } from '../../runtime/config/index.ts'
import { tempDir } from '../helpers/node.ts'

const quiet = createLogger({ level: 'error', stderr: false })

describe('store', () => {
  test('opens in WAL mode with foreign keys and applies the migrations', async () => {
    using dir = tempDir()
    const s = store()({ dataDir: dir, config: DEFAULT_CONFIG, log: quiet })
    await s.start()
    expect(s.db.query('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
    expect(s.db.query('PRAGMA foreign_keys').get()).toEqual({ foreign_keys: 1 })
    expect(s.schemaVersion()).toBeGreaterThanOrEqual(1)
    s.db.query('INSERT INTO meta (key, value) VALUES (?, ?)').run('k', 'v')
    await s.stop()
    expect(() => s.db).toThrow('not started')
    const again = new Database(join(dir, 'leither.db'))
    expect(again.query('SELECT value FROM meta WHERE key = ?').get('k')).toEqual({ value: 'v' })
    again.close()
  })

  test('each migration runs once, in order, each in a transaction', () => {
    using dir = tempDir()
    const ran: number[] = []
    const migrations = [1, 2, 3].map((version) => ({
      version,
      name: `m${version}`,
      up(db: Database) {
        ran.push(version)
        db.run(`CREATE TABLE t${version} (x)`)
      },
    }))
    const db = openDatabase(join(dir, 'a.db'))
    expect(migrate(db, migrations.slice(0, 2))).toBe(2)
    expect(migrate(db, migrations)).toBe(3)
    expect(migrate(db, migrations)).toBe(3)
    expect(ran).toEqual([1, 2, 3])
    db.close()
  })

  test('a failing migration leaves no half-applied schema', () => {
    using dir = tempDir()
    const db = openDatabase(join(dir, 'a.db'))
    const bad = {
      version: 1,
      name: 'bad',
      up(d: Database) {
        d.run('CREATE TABLE half (x)')
        throw new Error('boom')
      },
    }
    expect(() => migrate(db, [bad])).toThrow('boom')
    expect(db.query("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeNull()
    db.close()
  })

  test('a database from a newer leither is refused with a clear error', () => {
    using dir = tempDir()
    const db = openDatabase(join(dir, 'a.db'))
    migrate(db)
    db.query("INSERT INTO schema_migrations VALUES (999, 'future', 'x')").run()
    expect(() => migrate(db)).toThrow('newer than this leither knows')
    db.close()
  })
})
