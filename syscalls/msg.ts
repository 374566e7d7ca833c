// The msg family: messages between users and nodes (SendMsg, ReadMsg, PullMsg, MsgStatus) and
// pubsub for apps (Subscribe, Unsubscribe, Publish), delivered to WebSocket clients by PullMsg.
import { InvalidParams } from '../runtime/errors.ts'
import { PULL_MAX_SEC } from '../runtime/msg/index.ts'
import { syscall } from './row.ts'

/** Checks a map argument's keys: unknown ones are refused, naming the known ones. */
function fields(call: string, m: Record<string, unknown>, known: readonly string[]): Record<string, unknown> {
  for (const k of Object.keys(m)) if (!known.includes(k)) throw new InvalidParams(`${call}: unknown field ${k}; known: ${known.join(', ')}`)
  return m
}

function optInt(call: string, name: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'bigint' && v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v)
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v
  throw new InvalidParams(`${call}: ${name} must be an integer`)
}

function optString(call: string, name: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw new InvalidParams(`${call}: ${name} must be a string`)
  return v
}

const APP_TOPIC = [
  { name: 'app', type: 'string', doc: 'app id the topic belongs to' },
  { name: 'topic', type: 'string', doc: 'topic name within the app, 1-256 characters' },
] as const

export const MSG_SYSCALLS = [
  syscall<[Record<string, unknown>]>({
    name: 'SendMsg',
    sid: true,
    params: [{ name: 'msg', type: 'map', doc: '{to: user id or node id, app?: app id ("" = system), body: any value (≤ 224 KiB encoded)}' }],
    returns: 'message id',
    returnsType: 'string',
    app: 'msg.send',
    capability: 'session',
    errors: ['InvalidParams', 'PermissionDenied', 'QuotaExceeded', 'DiskFull'],
    doc:
      "Sends a message from the caller to a user or a node anywhere in the network, signed with the caller's key (which this node " +
      'must hold: PermissionDenied otherwise) and by this node; receivers refuse messages whose sender signature does not prove `from`. ' +
      'Returns at once; delivery is asynchronous: undelivered messages are kept and retried with backoff for 7 days, across restarts (see MsgStatus). ' +
      "A recipient's inbox holds msgInboxMax messages and is charged to them (their quota, the node's storageMaxBytes, the disk floor; " +
      '100 messages and 1 MiB for a user not admitted to store there); the oldest read ones make room, and when unread ones fill it the ' +
      'message is refused: QuotaExceeded here for a recipient on this node, MsgStatus lastError for one elsewhere (retried). ' +
      'A sender may have 1000 messages (32 MiB) waiting for other nodes.',
    handler(ctx, msg) {
      const m = fields('SendMsg', msg, ['to', 'app', 'body'])
      if (typeof m.to !== 'string') throw new InvalidParams('SendMsg: msg.to is required: a user id or a node id')
      return ctx.sys.messages.send(ctx.grant, { to: m.to, app: optString('SendMsg', 'app', m.app) ?? '', body: m.body })
    },
  }),
  syscall<[Record<string, unknown> | undefined]>({
    name: 'ReadMsg',
    sid: true,
    params: [{ name: 'opts', type: 'map', optional: true, doc: '{app?: only this app, since?: seq cursor, count?: 1..1000 (default 100)}' }],
    returns: 'list of {kind: "msg", seq, id, from, fromNode, to, app, body, sentAt, receivedAt, pk, sig}',
    returnsType: 'InboxMessage[]',
    capability: 'session',
    errors: ['InvalidParams', 'PermissionDenied'],
    doc:
      "The caller's messages, oldest first (the owner also gets messages sent to the node id). Without since: the unread ones; " +
      'with since: every message after that seq, read or not. Returned messages are marked read: reading is the acknowledgement. ' +
      'Read messages are deleted msgRetentionDays (default 30) after they arrived, or sooner to make room when the inbox is full; unread ones stay. ' +
      '`from` is proven: it is the key id of `pk`, the sender\'s public key, whose signature `sig` this node checked (messages received ' +
      'before senders signed have from "").',
    handler(ctx, opts = {}) {
      const o = fields('ReadMsg', opts, ['app', 'since', 'count'])
      return ctx.sys.messages.read(ctx.grant, { app: optString('ReadMsg', 'app', o.app), since: optInt('ReadMsg', 'since', o.since), count: optInt('ReadMsg', 'count', o.count) })
    },
  }),
  syscall<[number | undefined]>({
    name: 'PullMsg',
    sid: true,
    params: [{ name: 'timeoutSec', type: 'int', optional: true, doc: `seconds to wait when nothing is there, 0..${PULL_MAX_SEC} (default 30)` }],
    returns: 'list of unread messages (kind "msg", marked read) and app events (kind "pub"; kind "dropped" counts lost ones)',
    returnsType: 'PullItem[]',
    capability: 'session',
    errors: ['InvalidParams', 'PermissionDenied'],
    doc:
      "Long poll: returns at once when the caller has unread messages or the session has app events queued, else waits for the next one; " +
      'an empty list when the time is up. A WebSocket client keeps one PullMsg pending as its push channel.',
    async handler(ctx, timeoutSec) {
      const t = timeoutSec ?? 30
      if (t < 0 || t > PULL_MAX_SEC) throw new InvalidParams(`PullMsg: timeoutSec must be 0..${PULL_MAX_SEC}`)
      return ctx.sys.messages.pull(ctx.grant, t, ctx.meta.signal)
    },
  }),
  syscall<[string]>({
    name: 'MsgStatus',
    sid: true,
    params: [{ name: 'id', type: 'string', doc: 'a message id from SendMsg' }],
    returns: '{id, to, state: queued | delivered | expired, attempts, created, nextTry, lastError, doneAt, deliveredTo}',
    returnsType: 'OutboxStatus',
    capability: 'session',
    errors: ['NotFound', 'PermissionDenied'],
    doc: 'Where a message the caller sent from this node stands; deliveredTo is the accepting node id ("" = delivered on this node).',
    handler: (ctx, id) => ctx.sys.messages.status(ctx.grant, id),
  }),
  syscall<[string, string]>({
    name: 'Subscribe',
    sid: true,
    params: [...APP_TOPIC],
    returns: 'the gossipsub topic name',
    returnsType: 'string',
    capability: 'session',
    errors: ['InvalidParams', 'PermissionDenied'],
    doc:
      "Subscribes the session to an app's topic on every node (gossipsub leither/app/<app>/<topic>); events arrive through PullMsg. " +
      'A session that neither pulls nor subscribes for 10 minutes loses its subscriptions.',
    handler: (ctx, app, topic) => ctx.sys.messages.pubsub.subscribe(ctx.grant.sid, app, topic),
  }),
  syscall<[string, string]>({
    name: 'Unsubscribe',
    sid: true,
    params: [...APP_TOPIC],
    returns: 'true if the session was subscribed',
    returnsType: 'boolean',
    capability: 'session',
    errors: ['InvalidParams', 'PermissionDenied'],
    doc: 'Ends the subscription of the session to a topic.',
    handler: (ctx, app, topic) => ctx.sys.messages.pubsub.unsubscribe(ctx.grant.sid, app, topic),
  }),
  syscall<[string, string, unknown]>({
    name: 'Publish',
    sid: true,
    params: [...APP_TOPIC, { name: 'data', type: 'any', doc: 'any value, ≤ 64 KiB encoded' }],
    returns: '{peers, local}: nodes it was sent to, and other sessions here that got it',
    returnsType: '{ peers: number; local: number }',
    capability: 'session',
    errors: ['InvalidParams', 'PermissionDenied'],
    doc:
      "Publishes an event to an app's topic: subscribers on other nodes get it through gossipsub, other sessions on this node directly (not the publishing session). " +
      "The event is signed with the caller's key (which this node must hold: PermissionDenied otherwise); nodes drop events whose signature does not prove their `from`, " +
      'and events older than 5 minutes or seen before.',
    handler: (ctx, app, topic, data) => ctx.sys.messages.pubsub.publish(ctx.grant.sid, ctx.grant.userId, app, topic, data),
  }),
]
