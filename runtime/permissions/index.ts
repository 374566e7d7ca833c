// The permission layer: one place that turns a sid or an open handle into a Grant, audits every
// denial, and keeps handles tied to the sessions that opened them. The dispatcher and HTTP use
// it; stores accept only the Grants it mints.
import { InvalidParams, NotFound, PermissionDenied } from '../errors.ts'
import type { Logger } from '../log/index.ts'
import type { Database } from 'bun:sqlite'
import type { Sessions } from '../sessions/index.ts'
import { appIdOfOrigin } from './origins.ts'
import type { AppAccess } from './app-capabilities.ts'
import { AppGrants } from './app-grants.ts'
import { SignInCodes } from './codes.ts'
import { GUEST, mintGrant, type Capability, type Grant, type Principal } from './grant.ts'

export { CAPABILITIES, GUEST, holderKey, holderName, isOwnerOrSystem, principalOf, type Capability, type Grant, type GrantKind, type Principal, type SessionKind } from './grant.ts'

/** Kinds of open handle a syscall row can name: MiMei handles (MMOpen) and file handles (fsid). */
export type HandleKind = 'mimei' | 'file'
export type HandleAccess = 'read' | 'write'

/**
 * Checks that handle `id` exists and that its opener may still use it for `access` (rights are
 * re-read when they changed since the last check); returns the opener, or throws NotFound /
 * PermissionDenied. Registered by the store that owns the handles.
 */
export type HandleResolver = (id: unknown, access: HandleAccess) => Principal

export interface Permissions {
  /**
   * The grant of a session id ("" or null = a guest), checked against `need` for `what`. With
   * `origin` (the page's, from the transport), the session must belong there: an app's session to
   * its app's origin, a user's own session to anything but an app's origin.
   */
  authorize(sid: unknown, need: Capability, what: string, origin?: string, remote?: string): Grant
  /**
   * The grant of a handle's opener, for `access` through it. When the call also names a session
   * (`sid` given), it must be the opener's user: a handle does not lend its rights to others.
   */
  authorizeHandle(kind: HandleKind, id: unknown, access: HandleAccess, what: string, sid?: unknown, origin?: string): Grant
  /** Refuses `grant` when it is an app's and the app may not do `what` (`access`: the row's app access). */
  checkApp(grant: Grant, access: AppAccess, what: string): void
  /** What users granted apps. */
  readonly appGrants: AppGrants
  /** One-time sign-in codes for the launcher and app pages. */
  readonly codes: SignInCodes
  registerHandles(kind: HandleKind, resolver: HandleResolver): void
  /** Audits a denial decided elsewhere (rights checks in the stores); once per error. */
  audit(what: string, who: Principal, err: unknown): void
  /** Calls `listener` when a principal's sessions end (logout, revocation, expiry found on use). */
  onSessionEnded(listener: (ended: { userId: string; sid?: string; app?: string }) => void): void
  /** Tell the layer that sessions ended (boot wires the sessions subsystem to this). */
  sessionsEnded(ended: { userId: string; sid?: string; app?: string }): void
}

export interface PermissionComponents {
  readonly sessions: Pick<Sessions, 'resolve'>
  readonly log: Logger
  /** The node database (app grants). */
  readonly db: () => Database
}

/** A handle's session is looked up again at most this often (a Map hit otherwise). */
const SESSION_RECHECK_MS = 30_000
/** Size of the live-session map past which stale entries are dropped. */
const ALIVE_PRUNE_AT = 4096

const describeWho = (p: Principal) => p.userId || (p.kind === 'system' ? 'system' : 'guest')

export function permissions() {
  return (c: PermissionComponents): Permissions => {
    const auditLog = c.log.child('audit')
    const resolvers = new Map<HandleKind, HandleResolver>()
    const endListeners: ((ended: { userId: string; sid?: string; app?: string }) => void)[] = []
    /**
     * Sessions known alive, and when that was last checked. An entry older than the recheck
     * interval says nothing (it is looked up again), so past a size those are dropped: sessions
     * that expire idle never report their end, and the map would otherwise keep one entry each.
     */
    const alive = new Map<string, number>()
    const markAlive = (sid: string) => {
      const now = Date.now()
      if (alive.size >= ALIVE_PRUNE_AT) for (const [k, at] of alive) if (now - at >= SESSION_RECHECK_MS) alive.delete(k)
      alive.set(sid, now)
    }
    const audited = new WeakSet<object>()

    const deny = (what: string, who: Principal, reason: string, err: PermissionDenied): never => {
      auditLog.info('denied', { call: what, user: describeWho(who), reason })
      audited.add(err)
      throw err
    }

    /** A session works only from its own pages: an app's from the app's origin, a user's from any other. */
    const requireOrigin = (p: Principal, origin: string | undefined, what: string) => {
      if (origin === undefined || p.kind === 'guest' || p.kind === 'system') return
      const pageApp = appIdOfOrigin(origin)
      if (pageApp === p.app) return
      deny(
        what,
        p,
        'session used from another origin',
        new PermissionDenied(
          p.app
            ? `${what}: this session belongs to app ${p.app} and works only from its pages`
            : `${what}: a page of app ${pageApp} cannot use this session; the app gets its own from the launcher`,
        ),
      )
    }

    const principalOfSid = (sid: unknown, what: string, origin?: string, remote?: string): Principal => {
      if (sid === '' || sid === null || sid === undefined) return remote ? { ...GUEST, remote } : GUEST
      if (typeof sid !== 'string') throw new InvalidParams(`${what}: parameter sid must be a string, got ${sid instanceof Uint8Array ? 'bytes' : typeof sid}`)
      try {
        const s = c.sessions.resolve(sid)
        markAlive(sid)
        const who: Principal = { userId: s.userId, kind: s.kind, sid, ...(s.app ? { app: s.app } : {}) }
        requireOrigin(who, origin, what)
        return who
      } catch (err) {
        if (err instanceof PermissionDenied) deny(what, GUEST, 'unknown or ended session', err)
        throw err
      }
    }

    const ended = (e: { userId: string; sid?: string; app?: string }) => {
      if (e.sid) alive.delete(e.sid)
      for (const l of endListeners) l(e)
    }

    /** The opener's session must still be live; checked again every 30 s of use. */
    const requireLive = (p: Principal, what: string) => {
      if (!p.sid) return
      const at = alive.get(p.sid)
      if (at !== undefined && Date.now() - at < SESSION_RECHECK_MS) return
      try {
        c.sessions.resolve(p.sid)
        markAlive(p.sid)
      } catch (err) {
        alive.delete(p.sid)
        if (err instanceof PermissionDenied) {
          ended({ userId: p.userId, sid: p.sid })
          deny(what, p, 'the session that opened the handle ended', new PermissionDenied(`${what}: the session that opened this handle has ended; log in again and reopen it`))
        }
        throw err
      }
    }

    const appGrants = new AppGrants(c.db, auditLog)
    return {
      appGrants,
      codes: new SignInCodes(),
      checkApp(grant, access, what) {
        if (!grant.app || access === 'basic') return
        if (access === 'never') deny(what, grant, 'not open to apps', new PermissionDenied(`${what} is not open to apps; the user calls it from the launcher or the command line`))
        else if (!appGrants.has(grant.userId, grant.app, access)) {
          deny(what, grant, `app lacks ${access}`, new PermissionDenied(`app ${grant.app} lacks ${access}; grant it in the launcher (or AppGrant(sid, "${grant.app}", ["${access}"]))`))
        }
      },
      authorize(sid, need, what, origin, remote) {
        const who = principalOfSid(sid, what, origin, remote)
        const grant = mintGrant(who, need)
        if (grant.capabilities.has(need)) return grant
        return deny(
          what,
          who,
          `needs ${need}`,
          new PermissionDenied(
            who.kind === 'guest'
              ? `${what} needs a session (${need}); log in with Login(ppt) and pass the sid first`
              : `${what} needs ${need}, which ${who.kind} sessions do not have; log in as the node owner`,
          ),
        )
      },
      authorizeHandle(kind, id, access, what, sid, origin) {
        const resolve = resolvers.get(kind)
        if (!resolve) throw new NotFound(`${what}: this node has no ${kind} handles`)
        let opener: Principal
        try {
          opener = resolve(id, access)
        } catch (err) {
          if (err instanceof PermissionDenied && !audited.has(err)) deny(what, GUEST, `${access} through a ${kind} handle`, err)
          throw err
        }
        requireLive(opener, what)
        requireOrigin(opener, origin, what)
        if (sid !== undefined) {
          const caller = principalOfSid(sid, what, origin)
          if (caller.userId !== opener.userId || caller.app !== opener.app) {
            deny(what, caller, 'handle of another user', new PermissionDenied(`${what}: this handle was opened by another ${opener.userId ? 'user' : 'guest'}; open the MiMei yourself with MMOpen(sid, mid)`))
          }
        }
        return mintGrant(opener, access === 'write' ? 'handle.write' : 'handle.read')
      },
      registerHandles(kind, resolver) {
        resolvers.set(kind, resolver)
      },
      audit(what, who, err) {
        if (!(err instanceof PermissionDenied) || audited.has(err)) return
        audited.add(err)
        auditLog.info('denied', { call: what, user: describeWho(who), reason: err.message.slice(0, 200) })
      },
      onSessionEnded(listener) {
        endListeners.push(listener)
      },
      sessionsEnded: ended,
    }
  }
}

/**
 * The node's own grant, for internal work (replication, app data areas). Issued by
 * runtime/boot.ts alone, which hands it to the subsystems that need it (test/security/grants.test.ts
 * checks that nothing else calls this).
 */
export function issueSystemGrant(): Grant {
  return mintGrant({ userId: '', kind: 'system', sid: '' }, 'node.admin')
}
