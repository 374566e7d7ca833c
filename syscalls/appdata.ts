// The appdata family: what apps of people who follow each other need from the node — following a
// user's app data area (this node then replicates it) and a key shared with another user for
// end-to-end encrypted messages (derived here, where the user's key is; her secret key never leaves).
import { InvalidParams, PermissionDenied } from '../runtime/errors.ts'
import { boxKey } from '../runtime/identity/box.ts'
import { fromBase64Url, keyId, toBase64Url } from '../runtime/identity/keys.ts'
import { loadUserKey } from '../runtime/identity/keystore.ts'
import { HINTS_PER_TAKE, leaveHint, MAX_HINT_BYTES, MAX_HINTS_PER_SENDER, takeHints } from '../runtime/apps/hints.ts'
import { checkLastArgs, MAX_LAST_IDS, MAX_LAST_WAIT_SEC, waitLast } from '../runtime/apps/last-versions.ts'
import { syscall, type SyscallRow } from './row.ts'

export { MAX_LAST_IDS, MAX_LAST_WAIT_SEC } from '../runtime/apps/last-versions.ts'
export { MAX_HINTS_PER_SENDER, MAX_HINTS_PER_RECIPIENT, HINTS_PER_TAKE } from '../runtime/apps/hints.ts'

export const APPDATA_SYSCALLS: SyscallRow[] = [
  syscall<[string, string, boolean | undefined]>({
    name: 'AppDataFollow',
    sid: true,
    params: [
      { name: 'appid', type: 'string', doc: "the app (an app's session: its own id)" },
      { name: 'user', type: 'string', doc: 'the user whose user-scope data area of the app to follow' },
      { name: 'on', type: 'bool', optional: true, doc: 'false stops following (default true)' },
    ],
    returns: '{mid, following, followers, provided}',
    returnsType: '{ mid: string; following: boolean; followers: number; provided: boolean }',
    app: 'net',
    capability: 'session',
    errors: ['InvalidParams', 'PermissionDenied', 'QuotaExceeded'],
    doc:
      "Follows a user's data area of the app (MMOpenAppData scope user, in the app's data space, so the same id on every node): while any user here follows it, this node provides it " +
      "(replicates it, syncs each version its author publishes) and anyone here may read the replica, so it stays readable while the author's node is away. " +
      'Returns at once; the first sync runs on (MiMeiSyncStatus). With on false, the node stops providing it when its last follower here stops. ' +
      'An area its author made on this node is left as she keeps it (provided: false). A user follows at most 5000 areas.',
    handler: (ctx, appid, user, on) => ctx.sys.apps.follows.set(ctx.grant, appid, user, on ?? true),
  }),
  syscall<[string, string]>({
    name: 'AppDataId',
    sid: true,
    params: [
      { name: 'appid', type: 'string', doc: 'the app' },
      { name: 'user', type: 'string', doc: 'a user id' },
    ],
    returns: 'the MiMei id of the user-scope data area of the app for that user',
    returnsType: 'string',
    app: 'basic',
    capability: 'session',
    errors: ['InvalidParams', 'PermissionDenied'],
    doc: "The id MMOpenAppData(appid, 'user') gives that user's area: the app's data space (its manifest `data` namespace, else its id) names it.",
    handler: (ctx, appid, user) => ctx.sys.apps.follows.areaOf(ctx.grant, appid, user),
  }),
  syscall<[string | undefined, string | undefined]>({
    name: 'UserBoxKey',
    sid: true,
    params: [
      { name: 'peerPk', type: 'string', optional: true, doc: "the other user's Ed25519 public key, base64url (omitted: only pk is returned)" },
      { name: 'context', type: 'string', optional: true, doc: "what the key is for (an app's session: always its data space)" },
    ],
    returns: '{pk, peer, key}: the caller\u2019s public key, the peer\u2019s user id and the 32-byte shared key (base64url)',
    returnsType: '{ pk: string; peer?: string; key?: string }',
    app: 'msg',
    capability: 'session',
    errors: ['InvalidParams', 'PermissionDenied'],
    doc:
      "The key the caller shares with another user for end-to-end encryption: X25519 of the caller's key (which this node must hold) and the peer's, through HKDF-SHA-256 " +
      'over the context and both user ids. The peer derives the same key on her node; anyone else, including the nodes that carry or store the ciphertext, cannot. ' +
      "An app's session gets the key of its own data space, so apps never read each other's messages; it needs the msg permission.",
    handler(ctx, peerPk, context) {
      const { grant } = ctx
      if (!grant.userId) throw new InvalidParams('UserBoxKey needs a logged-in user')
      const mine = loadUserKey(ctx.sys.dataDir, grant.userId, (m) => ctx.sys.log.warn(m))
      if (!mine) throw new PermissionDenied(`this node does not hold the key of user ${grant.userId}; derive the key on the node that holds it`)
      const pk = toBase64Url(mine.publicKey)
      if (peerPk === undefined || peerPk === null) return { pk }
      if (typeof peerPk !== 'string' || peerPk.length > 64) throw new InvalidParams('peerPk must be a base64url Ed25519 public key')
      const peer = fromBase64Url(peerPk, 'peerPk')
      const ctxName = grant.app ? ctx.sys.mimei.dataSpace(grant.app) : (context ?? '')
      if (ctxName.length > 256) throw new InvalidParams('context is at most 256 characters')
      return { pk, peer: keyId(peer), key: toBase64Url(boxKey(mine, peer, ctxName)) }
    },
  }),
  syscall<[unknown, unknown, unknown]>({
    name: 'MMLast',
    sid: true,
    params: [
      { name: 'mids', type: 'list', doc: `MiMei ids, at most ${MAX_LAST_IDS}` },
      { name: 'since', type: 'map', optional: true, doc: 'MiMei id → the version the caller has seen (an id not named: 0)' },
      { name: 'wait', type: 'int', optional: true, doc: `seconds to wait for a newer version than seen, 0..${MAX_LAST_WAIT_SEC} (default 0: answer at once)` },
    ],
    returns: 'a map of MiMei id → its newest version here (null when it is not here or you may not read it)',
    returnsType: 'Record<string, number | null>',
    app: 'basic',
    capability: 'session',
    errors: ['InvalidParams'],
    doc:
      'The newest version this node holds of each MiMei, for many at once (what GetVar mminfo says as `last`, one call instead of one per MiMei). ' +
      'With `since` and `wait`, a long poll: it answers as soon as one of them has a version above the one seen (a backup here, or a version installed from the network), else when the wait is over. ' +
      'A MiMei the caller may not read answers null, as one not here.',
    handler: (ctx, mids, since, wait) => {
      const a = checkLastArgs(mids, since, wait)
      return waitLast(ctx.sys.mimei, ctx.sys.replication, ctx.grant, a.mids, a.since, a.waitSec)
    },
  }),
  syscall<[string, string, unknown]>({
    name: 'AppDataHint',
    sid: true,
    params: [
      { name: 'appid', type: 'string', doc: "the app (an app's session: its own id)" },
      { name: 'to', type: 'string', doc: 'the user of this node the hint is for' },
      { name: 'body', type: 'map', doc: `what to tell her, at most ${MAX_HINT_BYTES} bytes as JSON` },
    ],
    returns: '{at}',
    returnsType: '{ at: number }',
    app: 'basic',
    capability: 'session',
    errors: ['InvalidParams', 'PermissionDenied', 'QuotaExceeded'],
    doc:
      "Leaves a hint for another user of this node in the app's data space, from the caller (her session proves it): how a user whose key is not on the node tells another of something, as a message would. " +
      `A sender holds at most ${MAX_HINTS_PER_SENDER} unread hints per recipient (QuotaExceeded past that, until she takes them). The recipient takes them with AppDataHints.`,
    handler: (ctx, appid, to, body) => leaveHint(ctx.sys.mimei, ctx.grant, appid, to, body),
  }),
  syscall<[string]>({
    name: 'AppDataHints',
    sid: true,
    params: [{ name: 'appid', type: 'string', doc: "the app (an app's session: its own id)" }],
    returns: 'list of {from, body, at}, each sender’s oldest first',
    returnsType: '{ from: string; body: Record<string, unknown>; at: number }[]',
    app: 'basic',
    capability: 'session',
    errors: ['InvalidParams', 'PermissionDenied'],
    doc: `Takes the hints other users of this node left for the caller in the app's data space (AppDataHint), up to ${HINTS_PER_TAKE} per call: they are removed as they are returned.`,
    handler: (ctx, appid) => takeHints(ctx.sys.mimei, ctx.grant, appid),
  }),
]
