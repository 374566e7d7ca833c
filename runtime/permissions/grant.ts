// Capabilities and the Grant: the checked answer to "who calls, and what may they do".
// Only this folder mints a Grant (test/security/grants.test.ts guards that), so a store that
// takes one cannot be reached with a caller somebody built by hand.
import type { SessionKind } from '../sessions/index.ts'

export type { SessionKind }

/**
 * Capabilities a syscall row can require:
 * - `public`: anyone, guests included (sid "").
 * - `session`: any logged-in user.
 * - `user.sign`: sign with the caller's own key (held by this node).
 * - `node.admin`: manage the node; only its owner.
 * - `handle.read` / `handle.write`: the call names an open handle (its row says which kind);
 *   the handle's opener must still be logged in and still hold the read (write) right.
 */
export const CAPABILITIES = ['public', 'session', 'user.sign', 'node.admin', 'handle.read', 'handle.write'] as const
export type Capability = (typeof CAPABILITIES)[number]

/** `system` is the node's own work (replication, app data areas); only boot holds it. */
export type GrantKind = SessionKind | 'system'

export const KIND_CAPABILITIES: Record<GrantKind, readonly Capability[]> = {
  guest: ['public', 'handle.read', 'handle.write'],
  user: ['public', 'session', 'user.sign', 'handle.read', 'handle.write'],
  owner: CAPABILITIES,
  system: CAPABILITIES,
}

const CHECKED: unique symbol = Symbol('checked by runtime/permissions')

/** Who holds a handle or a session: enough to mint their Grant again. */
export interface Principal {
  /** The user id, "" for a guest (and for the system). */
  readonly userId: string
  readonly kind: GrantKind
  /** The session's sid ("" for a guest or the system). */
  readonly sid: string
  /** The app whose page holds the session: it may do only what the user granted that app. */
  readonly app?: string
  /** A guest's network address: limits on what guests hold count per address, not all guests as one. */
  readonly remote?: string
}

/**
 * Proof that runtime/permissions resolved the caller and checked a capability. Stores take it
 * instead of a plain caller object, so an unchecked call does not compile.
 */
export interface Grant extends Principal {
  readonly [CHECKED]: true
  readonly capabilities: ReadonlySet<Capability>
  /** The capability this call was checked against. */
  readonly checked: Capability
}

/** One set per kind, made once: a grant is minted on every call. */
const KIND_SETS: Record<GrantKind, ReadonlySet<Capability>> = {
  guest: new Set(KIND_CAPABILITIES.guest),
  user: new Set(KIND_CAPABILITIES.user),
  owner: new Set(KIND_CAPABILITIES.owner),
  system: new Set(KIND_CAPABILITIES.system),
}

/** Mints a Grant. Internal to runtime/permissions: everyone else gets grants from it. */
export function mintGrant(who: Principal, checked: Capability): Grant {
  const grant = { [CHECKED]: true as const, userId: who.userId, kind: who.kind, sid: who.sid, capabilities: KIND_SETS[who.kind], checked }
  return who.app ? { ...grant, app: who.app } : who.remote ? { ...grant, remote: who.remote } : grant
}

export const GUEST: Principal = { userId: '', kind: 'guest', sid: '' }

/** The principal of a grant, without the proof (what a handle remembers of its opener). */
export const principalOf = (g: Principal): Principal => ({ userId: g.userId, kind: g.kind, sid: g.sid, ...(g.app ? { app: g.app } : {}), ...(g.remote ? { remote: g.remote } : {}) })

/** Whom per-holder limits count: a user, or the guests of one address together. */
export const holderKey = (p: Principal): string => p.userId || `guest@${p.remote ?? ''}`

/** The holder in words, for messages. */
export const holderName = (p: Principal): string => p.userId || (p.remote ? `guests from ${p.remote}` : 'guests')

/** Whether the grant speaks for the node itself or its owner (every right on every MiMei). */
export const isOwnerOrSystem = (g: Pick<Principal, 'kind'>) => g.kind === 'owner' || g.kind === 'system'
