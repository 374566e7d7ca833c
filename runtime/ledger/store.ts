// The ledger's tables: final blocks of every account, notaries' co-signatures, and what this node
// co-signed as a notary (one block per predecessor, ever).
import type { Database } from 'bun:sqlite'
import { decodeBlock, type Block } from './block.ts'

interface BlockRow {
  body: Uint8Array
  sig: Uint8Array
}

export interface LedgerStore {
  head(account: string): Block | undefined
  height(account: string): number
  byHash(hash: Uint8Array): Block | undefined
  isReceived(source: Uint8Array): boolean
  /** Appends a final block (checked by the caller) with its co-signatures. */
  append(b: Block, cosigs: readonly { notary: string; sig: Uint8Array; round?: number }[]): void
  /** Blocks of an account, newest first. */
  history(account: string, start: number, count: number): Block[]
  chain(account: string): Block[]
  /** Up to `count` blocks of an account from `height` on, oldest first. */
  chainFrom(account: string, height: number, count: number): Block[]
  /** Final sends to `account` not yet received by it. */
  pending(account: string): Block[]
  /** Final sends to any account not yet received. */
  pendingAll(): Block[]
  /** The block this notary co-signed after `prev` of `account`, if any. */
  noted(account: string, prev: Uint8Array): Uint8Array | undefined
  /** Records that this notary co-signed block `b` (after its predecessor). */
  note(b: Block): void
  /** A block this notary co-signed after the account's head (or as its open block) that is not final. */
  unfinished(account: string): Block | undefined
  /** The public key from the account's open block. */
  openKey(account: string): Uint8Array | undefined
  accounts(): string[]
  cosigsOf(hash: Uint8Array): { notary: string; sig: Uint8Array; round: number }[]
  /** The block this notary voted for after `prev` in `round` (0: its co-signature, coin_notes). */
  vote(account: string, prev: Uint8Array, round: number): Block | undefined
  /** Records this notary's vote in a round >= 1. */
  noteVote(b: Block, round: number): void
  /** Runs `fn`'s writes in one transaction (one commit); on failure none of them happened. */
  batch(fn: () => void): void
}

const toBlock = (r: BlockRow | null): Block | undefined => (r ? decodeBlock({ body: new Uint8Array(r.body), sig: new Uint8Array(r.sig) }) : undefined)

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex')
/** Accounts whose head and pending sends are kept in memory (every write goes through append). */
const CACHED_ACCOUNTS = 10_000

export function ledgerStore(db: () => Database): LedgerStore {
  const q = (sql: string) => db().query(sql)
  // Heads, heights and pending sends of recently used accounts, read from SQLite once; dropped when the database is another.
  let cachedDb: Database | undefined
  const heads = new Map<string, { head: Block | undefined; height: number }>()
  const pendings = new Map<string, Map<string, Block>>()
  const fresh = () => {
    if (cachedDb !== db()) {
      cachedDb = db()
      heads.clear()
      pendings.clear()
    }
    if (heads.size > CACHED_ACCOUNTS) heads.clear()
    if (pendings.size > CACHED_ACCOUNTS) pendings.clear()
  }
  const headOf = (account: string) => {
    fresh()
    let h = heads.get(account)
    if (!h) {
      const row = q('SELECT height, body, sig FROM coin_blocks WHERE account = ? ORDER BY height DESC LIMIT 1').get(account) as (BlockRow & { height: number }) | null
      h = { head: toBlock(row), height: row ? row.height + 1 : 0 }
      heads.set(account, h)
    }
    return h
  }
  const pendingOf = (account: string) => {
    fresh()
    let p = pendings.get(account)
    if (!p) {
      const rows = q(`SELECT s.body, s.sig FROM coin_blocks s WHERE s.peer = ? AND s.type = 'send'
        AND NOT EXISTS (SELECT 1 FROM coin_blocks r WHERE r.source = s.hash) ORDER BY s.rowid`).all(account) as BlockRow[]
      p = new Map(rows.map((r) => toBlock(r)!).map((b) => [hexOf(b.hash), b]))
      pendings.set(account, p)
    }
    return p
  }
  return {
    head(account) {
      return headOf(account).head
    },
    height(account) {
      return headOf(account).height
    },
    byHash(hash) {
      return toBlock(q('SELECT body, sig FROM coin_blocks WHERE hash = ?').get(hash) as BlockRow | null)
    },
    isReceived(source) {
      return q('SELECT 1 FROM coin_blocks WHERE source = ?').get(source) !== null
    },
    append(b, cosigs) {
      const height = this.height(b.account)
      db().transaction(() => {
        q(`INSERT INTO coin_blocks (hash, account, height, type, balance, peer, amount, source, time, body, sig)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
          b.hash,
          b.account,
          height,
          b.type,
          b.balance,
          b.type === 'send' ? b.to! : b.type === 'receive' ? (this.byHash(b.source!)?.account ?? null) : null,
          b.amount ?? null,
          b.source ?? null,
          b.time,
          b.body,
          b.sig,
        )
        for (const c of cosigs) q('INSERT OR IGNORE INTO coin_cosigs (hash, notary, sig, round) VALUES (?, ?, ?, ?)').run(b.hash, c.notary, c.sig, c.round ?? 0)
      })()
      heads.set(b.account, { head: b, height: height + 1 })
      if (b.type === 'send') pendings.get(b.to!)?.set(hexOf(b.hash), b)
      if (b.type === 'receive') pendings.get(b.account)?.delete(hexOf(b.source!))
    },
    history(account, start, count) {
      const rows = q('SELECT body, sig FROM coin_blocks WHERE account = ? ORDER BY height DESC LIMIT ? OFFSET ?').all(account, count, start) as BlockRow[]
      return rows.map((r) => toBlock(r)!)
    },
    chain(account) {
      return (q('SELECT body, sig FROM coin_blocks WHERE account = ? ORDER BY height').all(account) as BlockRow[]).map((r) => toBlock(r)!)
    },
    chainFrom(account, height, count) {
      return (q('SELECT body, sig FROM coin_blocks WHERE account = ? AND height >= ? ORDER BY height LIMIT ?').all(account, height, count) as BlockRow[]).map((r) => toBlock(r)!)
    },
    pending(account) {
      return [...pendingOf(account).values()]
    },
    pendingAll() {
      const rows = q(`SELECT s.body, s.sig FROM coin_blocks s WHERE s.type = 'send'
        AND NOT EXISTS (SELECT 1 FROM coin_blocks r WHERE r.source = s.hash)`).all() as BlockRow[]
      return rows.map((r) => toBlock(r)!)
    },
    noted(account, prev) {
      const had = q('SELECT hash FROM coin_notes WHERE account = ? AND prev = ?').get(account, prev) as { hash: Uint8Array } | null
      return had ? new Uint8Array(had.hash) : undefined
    },
    note(b) {
      q('INSERT INTO coin_notes (account, prev, hash, body, sig) VALUES (?, ?, ?, ?, ?)').run(b.account, b.prev, b.hash, b.body, b.sig)
    },
    unfinished(account) {
      const prev = this.head(account)?.hash ?? new Uint8Array()
      const row = q(`SELECT body, sig FROM coin_notes n WHERE account = ? AND prev = ? AND body IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM coin_blocks b WHERE b.hash = n.hash)`).get(account, prev) as BlockRow | null
      return toBlock(row)
    },
    openKey(account) {
      return toBlock(q('SELECT body, sig FROM coin_blocks WHERE account = ? AND height = 0').get(account) as BlockRow | null)?.key
    },
    cosigsOf(hash) {
      const rows = q('SELECT notary, sig, round FROM coin_cosigs WHERE hash = ?').all(hash) as { notary: string; sig: Uint8Array; round: number }[]
      return rows.map((r) => ({ notary: r.notary, sig: new Uint8Array(r.sig), round: r.round }))
    },
    vote(account, prev, round) {
      const row = round === 0
        ? q('SELECT body, sig FROM coin_notes WHERE account = ? AND prev = ? AND body IS NOT NULL').get(account, prev)
        : q('SELECT body, sig FROM coin_votes WHERE account = ? AND prev = ? AND round = ?').get(account, prev, round)
      return toBlock(row as BlockRow | null)
    },
    noteVote(b, round) {
      q('INSERT INTO coin_votes (account, prev, round, hash, body, sig) VALUES (?, ?, ?, ?, ?, ?)').run(b.account, b.prev, round, b.hash, b.body, b.sig)
    },
    batch(fn) {
      try {
        db().transaction(fn)()
      } catch (err) {
        cachedDb = undefined // what the cache learned inside the rolled-back transaction is forgotten
        throw err
      }
    },
    accounts() {
      return (q('SELECT DISTINCT account FROM coin_blocks ORDER BY account').all() as { account: string }[]).map((r) => r.account)
    },
  }
}
