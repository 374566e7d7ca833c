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
]
