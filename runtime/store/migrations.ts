// Schema migrations, in order. Append only: a released migration is never edited.
import type { Database } from 'bun:sqlite'

export interface Migration {
  readonly version: number
  readonly name: string
  up(db: Database): void
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'node metadata',
    up(db) {
      db.run(`CREATE TABLE meta (key TEXT PRIMARY KEY, value ANY) STRICT`)
    },
  },
  {
    version: 2,
    name: 'sessions',
    up(db) {
      // Only a hash of the sid is stored: a copied database file holds no usable session.
      db.run(`CREATE TABLE sessions (
        sid_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        created INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
      ) STRICT`)
      db.run('CREATE INDEX sessions_user ON sessions (user_id)')
    },
  },
]
