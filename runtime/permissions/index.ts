// The permission layer: one place that turns a sid or an open handle into a Grant, audits every
// denial, and keeps handles tied to the sessions that opened them. The dispatcher and HTTP use
// it; stores accept only the Grants it mints.
import { InvalidParams, NotFound, PermissionDenied } from '../errors.ts'
import type { Logger } from '../log/index.ts'
import type { Sessions } from '../sessions/index.ts'
import { GUEST, mintGrant, type Capability, type Grant, type Principal } from './grant.ts'

export { CAPABILITIES, GUEST, isOwnerOrSystem, principalOf, type Capability, type Grant, type GrantKind, type Principal, type SessionKind } from './grant.ts'

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
  /** The grant of a session id ("" or null = a guest), checked against `need` for `what`. */
  authorize(sid: unknown, need: Capability, what: string): Grant
  /**
   * The grant of a handle's opener, for `access` through it. When the call also names a session
   * (`sid` given), it must be the opener's user: a handle does not lend its rights to others.
   */
  authorizeHandle(kind: HandleKind, id: unknown, access: HandleAccess, what: string, sid?: unknown): Grant
  registerHandles(kind: HandleKind, resolver: HandleResolver): void
  /** Audits a denial decided elsewhere (rights checks in the stores); once per error. */
  audit(what: string, who: Principal, err: unknown): void
  /** Calls `listener` when a principal's sessions end (logout, revocation, expiry found on use). */
  onSessionEnded(listener: (ended: { userId: string; sid?: string }) => void): void
  /** Tell the layer that sessions ended (boot wires the sessions subsystem to this). */
  sessionsEnded(ended: { userId: string; sid?: string }): void
}

export interface PermissionComponents {
  readonly sessions: Pick<Sessions, 'resolve'>
  readonly log: Logger
}

/** A handle's session is looked up again at most this often (a Map hit otherwise). */
const SESSION_RECHECK_MS = 30_000

const describeWho = (p: Principal) => p.userId || (p.kind === 'system' ? 'system' : 'guest')

export function permissions() {
  return (c: PermissionComponents): Permissions => {
    const auditLog = c.log.child('audit')
    const resolvers = new Map<HandleKind, HandleResolver>()
    const endListeners: ((ended: { userId: string; sid?: string }) => void)[] = []
    /** Sessions known alive, and when that was last checked. */
    const alive = new Map<string, number>()
    const audited = new WeakSet<object>()

    const deny = (what: string, who: Principal, reason: string, err: PermissionDenied): never => {
      auditLog.info('denied', { call: what, user: describeWho(who), reason })
      audited.add(err)
      throw err
    }

    const principalOfSid = (sid: unknown, what: string): Principal => {
      if (sid === '' || sid === null || sid === undefined) return GUEST
      if (typeof sid !== 'string') throw new InvalidParams(`${what}: parameter sid must be a string, got ${sid instanceof Uint8Array ? 'bytes' : typeof sid}`)
      try {
        const s = c.sessions.resolve(sid)
        alive.set(sid, Date.now())
        return { userId: s.userId, kind: s.kind, sid }
      } catch (err) {
        if (err instanceof PermissionDenied) deny(what, GUEST, 'unknown or ended session', err)
        throw err
      }
    }

    const ended = (e: { userId: string; sid?: string }) => {
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
        alive.set(p.sid, Date.now())
      } catch (err) {
        alive.delete(p.sid)
        if (err instanceof PermissionDenied) {
          ended({ userId: p.userId, sid: p.sid })
          deny(what, p, 'the session that opened the handle ended', new PermissionDenied(`${what}: the session that opened this handle has ended; log in again and reopen it`))
        }
        throw err
      }
    }

    return {
      authorize(sid, need, what) {
        const who = principalOfSid(sid, what)
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
      authorizeHandle(kind, id, access, what, sid) {
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
        if (sid !== undefined) {
          const caller = principalOfSid(sid, what)
          if (caller.userId !== opener.userId) {
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
