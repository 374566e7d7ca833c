// Storage accounting: who may store on this node, what each user has stored, and the one gate
// every stored byte passes — the user's quota, the app's, the node's limit and the disk's floor.
import { statfsSync } from 'node:fs'
import type { Database } from 'bun:sqlite'
import { DiskFull, InvalidParams, PermissionDenied, QuotaExceeded } from '../errors.ts'
import type { Config } from '../config/index.ts'
import type { StoredUser, Usage } from '../rpc/browser/types.ts'

/*
 * What a user's stored bytes are made of (Usage): everything is charged to somebody —
 * cur: the live data of MiMei charged to them (their own; replicas they asked for);
 * versions: the numbered versions of those MiMei (logical size, as the author signed it);
 * mac: content-addressed files they committed, while their pin lasts;
 * temp: upload staging files they hold open; inbox: messages waiting for them on this node.
 * The shapes are the wire's (UserList, UserAdmit), declared once for the node and the browser.
 */
export type { StoredUser, Usage } from '../rpc/browser/types.ts'

export interface StorageDeps {
  readonly db: Database
  readonly config: Config
  readonly dataDir: string
  /** Bytes of the temp files a user holds open (the file store knows them). */
  tempBytes(userId: string): number
}

/** The free-space reading is reused this long: statfs on every write would cost a syscall each. */
const DISK_READ_MS = 2000
const now = () => Math.floor(Date.now() / 1000)

export class Storage {
  /** Admitted users and their quotas, kept in memory: the gate runs on every write. */
  private admitted = new Map<string, number | null>()
  private disk = { at: 0, free: Infinity }

  constructor(private readonly d: StorageDeps) {}

  start(): void {
    const rows = this.d.db.query('SELECT user_id, quota_bytes FROM storage_users').all() as { user_id: string; quota_bytes: number | null }[]
    this.admitted = new Map(rows.map((r) => [r.user_id, r.quota_bytes]))
  }

  // — who may store —

  /** The owner, users the owner admitted, and with `storageOpen` any user; never a guest. */
  mayStore(userId: string): boolean {
    if (!userId) return false
    return userId === this.d.config.owner || this.admitted.has(userId) || this.d.config.storageOpen
  }

  requireStorer(userId: string): void {
    if (this.mayStore(userId)) return
    throw new PermissionDenied(
      userId
        ? `this node stores data only for its owner and the users the owner admitted; ask the owner to run: leither user admit ${userId}`
        : 'a guest cannot store data on this node; log in with Login(ppt) first',
    )
  }

  admit(userId: string, quotaBytes: number | null): StoredUser {
    if (!/^[A-Za-z0-9_-]{27}$/.test(userId)) throw new InvalidParams(`"${userId.slice(0, 40)}" is not a user id (27 base64url characters)`)
    if (quotaBytes !== null && (!Number.isSafeInteger(quotaBytes) || quotaBytes < 0)) throw new InvalidParams('quotaBytes must be an integer >= 0 (0 = no limit)')
    this.d.db
      .query('INSERT INTO storage_users (user_id, admitted, quota_bytes) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET quota_bytes = excluded.quota_bytes')
      .run(userId, now(), quotaBytes)
    this.admitted.set(userId, quotaBytes)
    return this.user(userId)
  }

  /** Takes the right to store away; what the user stored stays (and still counts) until deleted. */
  remove(userId: string): boolean {
    this.admitted.delete(userId)
    return this.d.db.query('DELETE FROM storage_users WHERE user_id = ?').run(userId).changes > 0
  }

  user(userId: string): StoredUser {
    const row = this.d.db.query('SELECT admitted, quota_bytes FROM storage_users WHERE user_id = ?').get(userId) as { admitted: number; quota_bytes: number | null } | null
    return { userId, admitted: row?.admitted ?? 0, quotaBytes: row?.quota_bytes ?? null, usage: this.usageOf(userId) }
  }

  /** The owner first, then admitted users, and anyone else who has data here. */
  list(): StoredUser[] {
    const ids = new Set<string>([this.d.config.owner, ...this.admitted.keys()])
    for (const r of this.d.db.query('SELECT DISTINCT coalesce(charge_to, author) AS u FROM mimei').all() as { u: string }[]) ids.add(r.u)
    return [...ids].filter(Boolean).map((id) => this.user(id))
  }

  // — what is stored —

  usageOf(userId: string): Usage {
    const one = (sql: string, ...args: (string | number)[]) => (this.d.db.query(sql).get(...args) as { n: number | null }).n ?? 0
    const cur = one('SELECT sum(bytes) AS n FROM mimei WHERE coalesce(charge_to, author) = ?', userId)
    const versions = one('SELECT sum(v.size) AS n FROM mimei_versions v JOIN mimei m ON m.id = v.m WHERE coalesce(m.charge_to, m.author) = ?', userId)
    const mac = one('SELECT sum(size) AS n FROM mac_files WHERE user_id = ? AND pinned_until > ?', userId, now())
    const inbox = one('SELECT sum(length(body)) AS n FROM msg_inbox WHERE to_id = ?', userId)
    const temp = this.d.tempBytes(userId)
    return { cur, versions, mac, temp, inbox, total: cur + versions + mac + temp + inbox }
  }

  /** Everything stored on the node, by the same measure. */
  totalUsed(): number {
    const one = (sql: string, ...args: number[]) => (this.d.db.query(sql).get(...args) as { n: number | null }).n ?? 0
    return (
      one('SELECT sum(bytes) AS n FROM mimei') +
      one('SELECT sum(size) AS n FROM mimei_versions') +
      one('SELECT sum(size) AS n FROM mac_files WHERE pinned_until > ?', now()) +
      one('SELECT sum(length(body)) AS n FROM msg_inbox') +
      this.d.tempBytes('')
    )
  }

  // — the gate —

  /** The quota of a user in bytes, 0 = none: their own (UserAdmit), else the node's default. */
  quotaOf(userId: string): number {
    return this.admitted.get(userId) ?? this.d.config.quotaUserBytes
  }

  /**
   * Refuses `incoming` more bytes charged to `userId` when they may not store here, or when
   * their quota, the node's limit (storageMaxBytes) or the disk's floor (storageMinFreeBytes)
   * would be passed. Nothing is written when it throws; shrinking writes (incoming ≤ 0) always pass.
   */
  charge(userId: string, incoming: number): void {
    if (incoming <= 0) return
    this.requireStorer(userId)
    const quota = this.quotaOf(userId)
    if (quota > 0) {
      const used = this.usageOf(userId).total
      if (used + incoming > quota) {
        throw new QuotaExceeded(`user ${userId} would store ${used + incoming} of ${quota} bytes; delete data or versions, or ask the owner for a larger quota (leither user admit --quota)`)
      }
    }
    this.chargeNode(incoming)
  }

  /**
   * The node's part of the gate alone: its limit (storageMaxBytes) and the disk's floor. For bytes
   * the node keeps without a storer's quota (the small inbox of a user not admitted, a sender's outbox).
   */
  chargeNode(incoming: number): void {
    if (incoming <= 0) return
    const { config } = this.d
    if (config.storageMaxBytes > 0) {
      const used = this.totalUsed()
      if (used + incoming > config.storageMaxBytes) {
        throw new QuotaExceeded(`this node stores at most ${config.storageMaxBytes} bytes (config storageMaxBytes) and holds ${used}; nothing was written`)
      }
    }
    const free = this.freeBytes()
    if (free - incoming < config.storageMinFreeBytes) {
      throw new DiskFull(`the disk of this node has ${free} bytes free and keeps ${config.storageMinFreeBytes} in reserve (config storageMinFreeBytes); nothing was written`)
    }
    // Until the next reading, count what was let in as used.
    this.disk.free -= incoming
  }

  /** Free bytes on the data dir's file system, read at most every 2 s (and after each write of its size). */
  freeBytes(): number {
    const t = Date.now()
    if (t - this.disk.at > DISK_READ_MS) {
      try {
        const s = statfsSync(this.d.dataDir)
        this.disk = { at: t, free: s.bavail * s.bsize }
      } catch {
        this.disk = { at: t, free: Infinity }
      }
    }
    return this.disk.free
  }
}
