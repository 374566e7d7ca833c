// What users granted apps: kept in SQLite, read from memory on every call of an app's session,
// so a revocation takes effect on the next call. Every change is audited.
import type { Database } from 'bun:sqlite'
import { InvalidParams, PermissionDenied } from '../errors.ts'
import type { Logger } from '../log/index.ts'
import { APP_CAPABILITIES, isAppCapability, type AppCapability } from './app-capabilities.ts'

export interface AppGrantRow {
  readonly capability: AppCapability
  readonly grantedAt: number
  /** A limit where the capability has one (coin.transfer: milli-Nuo the app may spend). */
  readonly limit: number | null
}

const key = (userId: string, appId: string) => `${userId}\n${appId}`
const now = () => Math.floor(Date.now() / 1000)

export class AppGrants {
  private readonly cache = new Map<string, Map<AppCapability, AppGrantRow>>()

  constructor(
    private readonly db: () => Database,
    private readonly audit: Logger,
  ) {}

  /** The grants of one user to one app (read once, then from memory). */
  of(userId: string, appId: string): ReadonlyMap<AppCapability, AppGrantRow> {
    const k = key(userId, appId)
    let grants = this.cache.get(k)
    if (!grants) {
      const rows = this.db().query('SELECT capability, granted_at, limit_value FROM app_grants WHERE user_id = ? AND app_id = ?').all(userId, appId) as {
        capability: string
        granted_at: number
        limit_value: number | null
      }[]
      grants = new Map(rows.filter((r) => isAppCapability(r.capability)).map((r) => [r.capability as AppCapability, { capability: r.capability as AppCapability, grantedAt: r.granted_at, limit: r.limit_value }]))
      if (this.cache.size > 10_000) this.cache.clear()
      this.cache.set(k, grants)
    }
    return grants
  }

  has(userId: string, appId: string, capability: AppCapability): boolean {
    return this.of(userId, appId).has(capability)
  }

  grant(userId: string, appId: string, capabilities: readonly unknown[], limit?: number): AppGrantRow[] {
    const caps = checked(capabilities)
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) throw new InvalidParams('limit must be an integer >= 0')
    const db = this.db()
    db.transaction(() => {
      for (const cap of caps) {
        db.query(
          'INSERT INTO app_grants (user_id, app_id, capability, granted_at, limit_value) VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, app_id, capability) DO UPDATE SET limit_value = excluded.limit_value',
        ).run(userId, appId, cap, now(), limit ?? null)
      }
    })()
    this.cache.delete(key(userId, appId))
    this.audit.info('granted', { user: userId, app: appId, capabilities: caps.join(','), ...(limit !== undefined ? { limit } : {}) })
    return [...this.of(userId, appId).values()]
  }

  /**
   * Takes `amount` from what the user lets the app spend (coin.transfer's limit: what is left of it),
   * or refuses with nothing taken. A negative amount gives back what a transfer that failed took.
   */
  spend(userId: string, appId: string, amount: number): void {
    const cap = 'coin.transfer'
    const sql = 'UPDATE app_grants SET limit_value = limit_value - ? WHERE user_id = ? AND app_id = ? AND capability = ? AND limit_value IS NOT NULL AND limit_value >= ?'
    const n = this.db().query(sql).run(amount, userId, appId, cap, amount).changes
    this.cache.delete(key(userId, appId))
    if (n !== 1) {
      const left = this.of(userId, appId).get(cap)?.limit
      const set = `the user sets it in the launcher (Apps, the app's details) or with AppGrant(appid, ['coin.transfer'], limit)`
      throw new PermissionDenied(
        left === null || left === undefined
          ? `app ${appId} has no spending limit from user ${userId}: ${set}`
          : `app ${appId} may spend ${left} more 毫 of user ${userId}, this transfer needs ${amount}: ${set}`,
      )
    }
    this.audit.info(amount >= 0 ? 'app spent' : 'app spend returned', { user: userId, app: appId, amount: Math.abs(amount) })
  }

  /** Takes capabilities back (all of them when none are named); returns how many went. */
  revoke(userId: string, appId: string, capabilities?: readonly unknown[]): number {
    const caps = capabilities?.length ? checked(capabilities) : undefined
    const db = this.db()
    const n = caps
      ? caps.reduce((sum, cap) => sum + db.query('DELETE FROM app_grants WHERE user_id = ? AND app_id = ? AND capability = ?').run(userId, appId, cap).changes, 0)
      : db.query('DELETE FROM app_grants WHERE user_id = ? AND app_id = ?').run(userId, appId).changes
    this.cache.delete(key(userId, appId))
    this.audit.info('revoked', { user: userId, app: appId, capabilities: caps?.join(',') ?? 'all', count: n })
    return n
  }

  /** Drops every user's grants to an app (it was uninstalled); returns how many went. */
  dropApp(appId: string): number {
    const n = this.db().query('DELETE FROM app_grants WHERE app_id = ?').run(appId).changes
    for (const k of [...this.cache.keys()]) if (k.endsWith(`\n${appId}`)) this.cache.delete(k)
    this.audit.info('revoked', { app: appId, capabilities: 'all', users: 'all', count: n, because: 'uninstalled' })
    return n
  }

  /** Every grant of a user, by app. */
  list(userId: string): Record<string, AppGrantRow[]> {
    const rows = this.db().query('SELECT DISTINCT app_id FROM app_grants WHERE user_id = ? ORDER BY app_id').all(userId) as { app_id: string }[]
    return Object.fromEntries(rows.map((r) => [r.app_id, [...this.of(userId, r.app_id).values()]]))
  }
}

function checked(capabilities: readonly unknown[]): AppCapability[] {
  const bad = capabilities.filter((c) => !isAppCapability(c))
  // Any decoded value may arrive here (cycles, BigInt): only strings and numbers are quoted.
  const shown = (b: unknown) =>
    typeof b === 'string' ? JSON.stringify(b.slice(0, 60)) : typeof b === 'number' ? String(b) : Array.isArray(b) ? 'a list' : typeof b === 'bigint' ? 'a long integer' : `a ${typeof b === 'object' ? 'map' : typeof b}`
  if (bad.length) throw new InvalidParams(`not app capabilities: ${bad.map(shown).join(', ')}; known: ${APP_CAPABILITIES.join(', ')}`)
  return [...new Set(capabilities as AppCapability[])]
}
