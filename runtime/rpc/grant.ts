// Capabilities and the Grant: the dispatcher's checked answer to "who calls, and what may they do".

/**
 * Capabilities a syscall row can require. A session carries a set of them:
 * - `public`: anyone, guests included (sid "").
 * - `session`: any logged-in user.
 * - `user.sign`: sign with the caller's own key (held by this node).
 * - `node.admin`: manage the node; only its owner.
 */
export const CAPABILITIES = ['public', 'session', 'user.sign', 'node.admin'] as const
export type Capability = (typeof CAPABILITIES)[number]

export type SessionKind = 'guest' | 'user' | 'owner'

export const KIND_CAPABILITIES: Record<SessionKind, readonly Capability[]> = {
  guest: ['public'],
  user: ['public', 'session', 'user.sign'],
  owner: CAPABILITIES,
}

const CHECKED: unique symbol = Symbol('checked by the dispatcher')

/**
 * Proof that the dispatcher resolved the session and checked the row's capability. Only
 * `issueGrant` makes one, so a handler cannot be reached with an unchecked caller.
 */
export interface Grant {
  readonly [CHECKED]: true
  /** Who: the user id, "" for a guest. */
  readonly userId: string
  readonly kind: SessionKind
  /** The session's sid ("" for a guest); handlers use it only to end their own session. */
  readonly sid: string
  readonly capabilities: ReadonlySet<Capability>
  /** The capability this call was checked against. */
  readonly checked: Capability
}

/** One set per kind, made once: a grant is made on every call. */
const KIND_SETS: Record<SessionKind, ReadonlySet<Capability>> = {
  guest: new Set(KIND_CAPABILITIES.guest),
  user: new Set(KIND_CAPABILITIES.user),
  owner: new Set(KIND_CAPABILITIES.owner),
}

export function issueGrant(who: { userId: string; kind: SessionKind; sid: string }, checked: Capability): Grant {
  return { [CHECKED]: true, userId: who.userId, kind: who.kind, sid: who.sid, capabilities: KIND_SETS[who.kind], checked }
}

export const GUEST = { userId: '', kind: 'guest' as const, sid: '' }
