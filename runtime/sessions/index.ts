// Login sessions: created from a verified passport, kept in SQLite (they survive a restart),
// ended by logout, idle expiry or revocation. Only a hash of each sid is stored. Logout also ends
// the passport the session was opened with; revoking a user ends their older passports.
import { sha256 } from '@noble/hashes/sha2.js'
import { randomBytes } from 'node:crypto'
import type { Identity } from '../identity/index.ts'
import { toBase64Url, verifyPassport } from '../identity/index.ts'
import { InvalidSignature, PermissionDenied } from '../errors.ts'
import type { BaseComponents, Subsystem } from '../kernel.ts'
import type { Store } from '../store/index.ts'

/** Who a session speaks for: a guest (no session), a user, or the node's owner. */
export type SessionKind = 'guest' | 'user' | 'owner'

export interface Session {
  readonly sid: string
  readonly userId: string
  readonly kind: Exclude<SessionKind, 'guest'>
  readonly created: number
  readonly lastSeen: number
  /** The app the session was handed to (its page's origin is the app's); absent for a user's own session. */
  readonly app?: string
}

export interface Sessions extends Subsystem {
  /**
   * Verifies a login passport (signed for this node, CertFor=Self, valid for at most passportMaxSec,
   * not ended by Logout, not issued before a revocation of its user) and opens a session.
   */
  login(ppt: string): Session
  /**
   * Opens a session for someone already authenticated (a one-time code from their own session):
   * for an app page (`app`), or for the launcher. It ends with the user's other sessions.
   */
  open(who: { userId: string; kind: Session['kind']; app?: string }): Session
  /** Resolves a sid to its live session; throws PermissionDenied when unknown, expired or revoked. */
  resolve(sid: string): Session
  /** Ends the session and the passport it was opened with: that passport does not log in again. */
  logout(sid: string): boolean
  /**
   * Ends every session of a user and refuses their passports issued (NotBefore) before `before`
   * (unix seconds; default: everything issued up to now, this second included). Kept across
   * restarts; a later revocation can only move the time forward. Returns how many sessions ended.
   */
  revokeUser(userId: string, before?: number): number
  /** Ends every session handed to an app (it was uninstalled). Returns how many. */
  revokeApp(appId: string): number
  /** The time before which the user's passports are refused, if they were ever revoked. */
  revokedBefore(userId: string): number | undefined
  /**
   * Calls `listener` after sessions end: after `logout(sid)` with that sid, after `revokeUser`
   * without a sid (all of the user's sessions ended). Listeners run synchronously; one that throws
   * is logged and does not stop the others.
   */
  onEnded(listener: (ended: SessionEnded) => void): void
  /** Seconds until an idle session expires. */
  readonly idleSec: number
}

/** What `onEnded` listeners learn: the user, and the sid when one session ended (none: all of them). */
export interface SessionEnded {
  readonly userId: string
  readonly sid?: string
  /** Set when every session of an app ended (userId is then ""). */
  readonly app?: string
}

export interface SessionComponents extends BaseComponents {
  readonly identity: Identity
  readonly store: Store
}

const hashSid = (sid: string) => toBase64Url(sha256(new TextEncoder().encode(sid)))
const nowSec = () => Math.floor(Date.now() / 1000)
/** last_seen is rewritten at most this often, so reads do not turn into a write each. */
const TOUCH_EVERY_SEC = 30
/** Clock difference tolerated between a passport's signer and this node (as verifyPassport). */
const SKEW_SEC = 60

export function sessions() {
  return (components: SessionComponents): Sessions => {
    const { config, store, identity } = components
    const log = components.log.child('sessions')
    const idleSec = config.sessionIdleSec
    let sweeper: ReturnType<typeof setInterval> | undefined
    const listeners: ((ended: SessionEnded) => void)[] = []
    const ended = (e: SessionEnded) => {
      for (const l of listeners) {
        try {
          l(e)
        } catch (err) {
          log.warn('session-ended listener failed', { error: String(err) })
        }
      }
    }

    const sweep = () => {
      const r = store.db.query('DELETE FROM sessions WHERE revoked = 1 OR last_seen < ?').run(nowSec() - idleSec)
      if (r.changes) log.debug('expired sessions removed', { count: r.changes })
      store.db.query('DELETE FROM passports_ended WHERE until < ?').run(nowSec())
    }
    const revokedBefore = (userId: string) =>
      (store.db.query('SELECT before FROM user_revocations WHERE user_id = ?').get(userId) as { before: number } | null)?.before

    return {
      name: 'sessions',
      idleSec,
      login(ppt) {
        const passport = verifyPassport(ppt, { audience: identity.nodeId, skew: SKEW_SEC, maxValiditySec: config.passportMaxSec })
        if (passport.data.CertFor !== 'Self') {
          throw new InvalidSignature('a login passport must say CertFor=Self')
        }
        const before = revokedBefore(passport.signer)
        if (before !== undefined && passport.notBefore < before) {
          throw new InvalidSignature(
            `the passports of user ${passport.signer} issued before ${new Date(before * 1000).toISOString()} were revoked by the node owner; sign a new one`,
          )
        }
        if (store.db.query('SELECT 1 FROM passports_ended WHERE hash = ?').get(passport.hash)) {
          throw new InvalidSignature('this passport was ended by Logout; sign a new one (with a new Nonce when signed within the same second)')
        }
        const sid = toBase64Url(randomBytes(24))
        const kind = passport.signer === config.owner ? 'owner' : 'user'
        const now = nowSec()
        store.db
          .query('INSERT INTO sessions (sid_hash, user_id, kind, created, last_seen, ppt_hash, ppt_until) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(hashSid(sid), passport.signer, kind, now, now, passport.hash, passport.notAfter + SKEW_SEC)
        log.info('login', { user: passport.signer, kind })
        return { sid, userId: passport.signer, kind, created: now, lastSeen: now }
      },
      open(who) {
        const sid = toBase64Url(randomBytes(24))
        const now = nowSec()
        store.db
          .query('INSERT INTO sessions (sid_hash, user_id, kind, created, last_seen, app) VALUES (?, ?, ?, ?, ?, ?)')
          .run(hashSid(sid), who.userId, who.kind, now, now, who.app ?? null)
        log.info('session opened from a code', { user: who.userId, kind: who.kind, app: who.app ?? '' })
        return { sid, userId: who.userId, kind: who.kind, created: now, lastSeen: now, ...(who.app ? { app: who.app } : {}) }
      },
      resolve(sid) {
        const row = store.db
          .query('SELECT user_id, kind, created, last_seen, revoked, app FROM sessions WHERE sid_hash = ?')
          .get(hashSid(sid)) as { user_id: string; kind: Session['kind']; created: number; last_seen: number; revoked: number; app: string | null } | null
        const now = nowSec()
        if (!row || row.revoked) throw new PermissionDenied('unknown or ended session; log in again with Login(ppt)')
        if (now - row.last_seen >= idleSec) {
          throw new PermissionDenied(`session expired after ${idleSec} s idle; log in again with Login(ppt)`)
        }
        if (now - row.last_seen >= TOUCH_EVERY_SEC) {
          store.db.query('UPDATE sessions SET last_seen = ? WHERE sid_hash = ?').run(now, hashSid(sid))
        }
        return { sid, userId: row.user_id, kind: row.kind, created: row.created, lastSeen: now, ...(row.app ? { app: row.app } : {}) }
      },
      revokeApp(appId) {
        const n = store.db.query('UPDATE sessions SET revoked = 1 WHERE app = ? AND revoked = 0').run(appId).changes
        ended({ userId: '', app: appId })
        return n
      },
      logout(sid) {
        const row = store.db.transaction(() => {
          const r = store.db.query('DELETE FROM sessions WHERE sid_hash = ? RETURNING user_id, ppt_hash, ppt_until').get(hashSid(sid)) as {
            user_id: string
            ppt_hash: string | null
            ppt_until: number | null
          } | null
          // The passport is remembered until it would have expired anyway; sessions from before
          // this was kept have no hash (their passports expire within passportMaxSec).
          if (r?.ppt_hash) store.db.query('INSERT OR IGNORE INTO passports_ended (hash, until) VALUES (?, ?)').run(r.ppt_hash, r.ppt_until ?? 0)
          return r
        })()
        if (!row) return false
        ended({ userId: row.user_id, sid })
        return true
      },
      revokeUser(userId, before = nowSec() + 1) {
        const n = store.db.transaction(() => {
          store.db
            .query(`INSERT INTO user_revocations (user_id, before, at) VALUES (?, ?, ?)
              ON CONFLICT (user_id) DO UPDATE SET before = max(before, excluded.before), at = excluded.at`)
            .run(userId, before, nowSec())
          return store.db.query('UPDATE sessions SET revoked = 1 WHERE user_id = ? AND revoked = 0').run(userId).changes
        })()
        log.info('user revoked', { user: userId, before, sessions: n })
        ended({ userId })
        return n
      },
      revokedBefore,
      onEnded(listener) {
        listeners.push(listener)
      },
      start() {
        sweep()
        sweeper = setInterval(sweep, Math.min(idleSec, 600) * 1000)
        sweeper.unref?.()
      },
      stop() {
        if (sweeper) clearInterval(sweeper)
      },
    }
  }
}
