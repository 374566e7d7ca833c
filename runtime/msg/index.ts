// The messages subsystem (DESIGN §4 msg family): SendMsg/ReadMsg/PullMsg between users and nodes
// over /leither/msg/1.0.0, with a persistent outbox and inbox, plus app pubsub. Works offline for
// recipients on this node; messages for others wait in the outbox until the network is there.
// Messages and events are signed with the sender's key, so only users whose key this node holds
// send and publish here (a session of another user is told so). What the inboxes and the outbox
// may hold, and the pruning of inboxes, is limits.ts.
import { InvalidParams, NotFound, PermissionDenied } from '../errors.ts'
import { isKeyId, listUserKeys, loadUserKey, type Identity, type KeyPair } from '../identity/index.ts'
import type { BaseComponents, Subsystem } from '../kernel.ts'
import { encodeValue } from '../mimei/db/core.ts'
import type { Storage } from '../mimei/storage.ts'
import type { Grant } from '../permissions/index.ts'
import type { Store } from '../store/index.ts'
import type { Net } from '../net/index.ts'
import { appPubsub, type AppPubsub, type QueuedEvent } from './pubsub.ts'
import { outboxWorker } from './outbox.ts'
import { msgLimits } from './limits.ts'
import { msgRoutes, nodeIdOfPeer, type MsgRoutes } from './route.ts'
import { msgStore, type DueMessage, type InboxMessage, type OutboxStatus } from './store.ts'
import { forgery, MSG_MAX_BODY, MSG_PROTOCOL, MSG_SPEC, newMessageId, sealEnvelope, type Envelope } from './envelope.ts'
import { encodeCbor, offenseLog, request, serve } from '../net/wire.ts'
import { waiters } from './waiters.ts'

export interface MessagesComponents extends BaseComponents {
  readonly identity: Identity
  readonly store: Store
  /** The libp2p subsystem; undefined on an offline node. */
  readonly net: Net | undefined
  /** The storage gate: inbox bytes are charged to their recipient. */
  readonly storage: Storage
}

export interface MessagesInit {
  /** How long an undelivered message is retried (default 7 days). */
  retryForMs?: number
  /** First retry delay; each failure doubles it (default 2 s), up to backoffMaxMs (default 30 min). */
  backoffBaseMs?: number
  backoffMaxMs?: number
}

export interface SendRequest {
  to: string
  app: string
  body: unknown
}

export interface ReadRequest {
  app?: string
  since?: number
  count?: number
}

export type PullItem = InboxMessage | QueuedEvent

/** What the outbox reports after each try to deliver a message ('outbox' events on Messages.events). */
export interface OutboxAttempt {
  readonly id: string
  readonly to: string
  readonly ok: boolean
  /** Why it was not delivered (it stays queued and is tried again). */
  readonly error?: string
}

export interface Messages extends Subsystem {
  /** Signs (with the sender's key, which this node must hold) and queues a message; returns its id at once. */
  send(grant: Grant, req: SendRequest): string
  /** The caller's messages (node messages too for the owner), oldest first; marks them read. */
  read(grant: Grant, req: ReadRequest): InboxMessage[]
  /** Unread messages and app events of the session; waits up to timeoutSec for the first (none once `gone` is aborted). */
  pull(grant: Grant, timeoutSec: number, gone?: AbortSignal): Promise<PullItem[]>
  /** Where a message the caller sent stands. */
  status(grant: Grant, id: string): OutboxStatus
  /** Prunes the inboxes now (limits.ts sweep); the node does it as it starts and every 10 minutes. */
  sweep(now?: number): Promise<{ old: number; over: number }>
  /** 'outbox' (CustomEvent<OutboxAttempt>) after each try to deliver a queued message. */
  readonly events: EventTarget
  readonly pubsub: AppPubsub
}

/** Longest PullMsg wait: proxies and browsers drop idle requests after a minute or two. */
export const PULL_MAX_SEC = 60
const PULL_BATCH = 100
const READ_MAX = 1000
/** How often the inboxes are pruned. */
const SWEEP_MS = 10 * 60_000
/** A user who logged in here stays a local recipient this long after their last session. */
const USER_KEEP_MS = 90 * 86400_000
const TICK_MS = 60_000
const REANNOUNCE_MS = 12 * 3600_000
const FORGET_DONE_MS = 7 * 86400_000
/** Connectivity changes retry the outbox at most this often. */
const RECONNECT_RETRY_MS = 3_000

export function messages(init: MessagesInit = {}) {
  return (components: MessagesComponents): Messages => {
    const { config, identity, dataDir } = components
    const log = components.log.child('msg')
    const retryForMs = init.retryForMs ?? 7 * 86400_000
    const db = () => components.store.db
    const st = msgStore(db)
    const limits = msgLimits({ db, store: st, storage: components.storage, config, nodeId: () => identity.nodeId })
    const events = new EventTarget()
    const wait = waiters()
    const life = new AbortController()
    let routes: MsgRoutes | undefined
    let pubsub: AppPubsub | undefined
    let outbox: ReturnType<typeof outboxWorker> | undefined
    let tick: ReturnType<typeof setInterval> | undefined
    let stopped = false

    // — who is served here —
    let keyCache = { at: 0, ids: new Set<string>() }
    const userKeys = () => {
      if (Date.now() - keyCache.at > 10_000) keyCache = { at: Date.now(), ids: new Set(listUserKeys(dataDir, (m) => log.warn(m)).map((k) => k.id)) }
      return keyCache.ids
    }
    /** Keys of users who sent here lately; a key file removed is forgotten within a minute. */
    let signers = { at: Date.now(), keys: new Map<string, KeyPair>() }
    const userKey = (userId: string, call: string): KeyPair => {
      if (Date.now() - signers.at > TICK_MS) signers = { at: Date.now(), keys: new Map() }
      const known = signers.keys.get(userId) ?? loadUserKey(dataDir, userId, (m) => log.warn(m))
      if (!known) {
        throw new PermissionDenied(
          `${call} signs with the sender's key, and this node does not hold the key of user ${userId}; ` +
            'send from a node that holds your key (keys/users/ in its data dir)',
        )
      }
      signers.keys.set(userId, known)
      return known
    }
    const isLocal = (to: string) =>
      to === identity.nodeId || userKeys().has(to) || st.isKnownUser(to, Date.now() - USER_KEEP_MS) || st.hasSession(to)
    const localUsers = () => [...new Set([...userKeys(), ...st.knownUsers(Date.now() - USER_KEEP_MS)])]
    const ownerOf = (to: string) => (to === identity.nodeId ? config.owner : to)

    // — announcing — each key on its own, so a slow DHT round never holds back a new user.
    const announced = new Map<string, number>()
    const announcing = new Set<string>()
    let announcedWithoutPeers = true
    /** Announces the node ("") and local users not announced lately (all of them when `all`). */
    const announce = (all: boolean): void => {
      if (!routes || stopped) return
      // With an empty routing table a DHT provide waits for a peer until its deadline: wait for
      // the table to gain one instead (onDhtPeer).
      announcedWithoutPeers = routes.dhtPeers() === 0
      if (announcedWithoutPeers) return
      const now = Date.now()
      for (const id of ['', ...localUsers()]) {
        if (announcing.has(id) || (!all && now - (announced.get(id) ?? 0) <= REANNOUNCE_MS)) continue
        announcing.add(id)
        announced.set(id, now)
        routes
          .announce(id || undefined)
          .catch((err) => {
            // Tried again on the next tick.
            announced.delete(id)
            if (!stopped) log.debug('announce failed', { id: id || 'node', error: (err as Error).message })
          })
          .finally(() => announcing.delete(id))
      }
    }

    /** A user active on this node becomes a local recipient (and is announced) right away. */
    const touched = new Map<string, number>()
    const touch = (userId: string) => {
      const now = Date.now()
      if (now - (touched.get(userId) ?? 0) < TICK_MS) return
      touched.set(userId, now)
      st.touchUser(userId, now)
      if (!announced.has(userId)) announce(false)
    }

    let sweepRun: Promise<unknown> | undefined
    const sweep = async (now = Date.now()) => {
      const pruned = await limits.sweep(now, life.signal)
      if (pruned.old || pruned.over) log.info('pruned read messages', pruned)
      return pruned
    }
    let swept = 0
    const housekeeping = () => {
      const now = Date.now()
      for (const u of st.sessionUsers()) st.touchUser(u.userId, u.lastSeen)
      const expired = st.expire(now - retryForMs, now - FORGET_DONE_MS, now)
      if (expired) log.info('gave up on undelivered messages', { count: expired })
      if (now - swept >= SWEEP_MS) {
        swept = now
        sweepRun = sweep(now).catch((err) => log.error('pruning the inboxes failed', { error: (err as Error).message }))
      }
      pubsub?.sweep(now)
      announce(false)
    }

    // — delivery —
    /** Stores a message for a recipient here through the inbox gate (which throws when it does not fit). */
    const deliverHere = (e: Envelope) => {
      const r = limits.accept(e, Date.now())
      if (!r.dup) wait.wake(`u:${ownerOf(e.to)}`)
      return r
    }

    const deliver = async (m: DueMessage): Promise<string> => {
      // Queued before senders signed their messages: no node takes it any more.
      if (!m.envelope.userSig) throw new Error('queued before messages were signed by their sender; send it again')
      if (isLocal(m.to)) {
        deliverHere(m.envelope)
        return ''
      }
      if (!routes || !components.net) throw new Error('this node is offline')
      const libp2p = components.net.libp2p
      const tried = new Set<string>()
      let lastError = 'no node of the recipient was found'
      const tryPeers = async (peers: ReturnType<MsgRoutes['known']>) => {
        for (const peer of peers) {
          tried.add(peer.toString())
          try {
            const receipt = await request(libp2p, peer, MSG_SPEC, m.envelope, { signal: life.signal })
            if (receipt.ok) {
              routes!.learn(m.to, peer)
              return nodeIdOfPeer(peer) ?? peer.toString()
            }
          } catch (err) {
            lastError = (err as Error).message
            // A node that answered with a refusal (its inbox is full) is still the recipient's.
            if (!lastError.startsWith(`${peer.toString()}: `)) routes!.forget(m.to, peer)
          }
        }
        return undefined
      }
      const node = (await tryPeers(routes.known(m.to))) ?? (await tryPeers(await routes.lookup(m.to, tried)))
      if (node === undefined) throw new Error(lastError)
      return node
    }

    const offense = offenseLog(log)
    const receive = async (e: Envelope, peer: Parameters<MsgRoutes['learn']>[1]) => {
      const why = forgery(e)
      if (why) {
        offense(peer, MSG_PROTOCOL, why)
        throw new Error(`refused: ${why}`)
      }
      if (stopped) throw new Error('node is stopping')
      if (!isLocal(e.to)) throw new Error(`${e.to} is not served by this node`)
      // A refusal (inbox full, quota, disk) goes back as the protocol's error: the sender's outbox keeps the message.
      const { dup } = deliverHere(e)
      routes?.learn(e.from, peer)
      routes?.learn(e.fromNode, peer)
      return { ok: true, dup }
    }

    // Retrying on new peers: a node that comes back is worth a try before its backoff ends.
    let lastRetry = 0
    let retryTimer: ReturnType<typeof setTimeout> | undefined
    const retrySoon = () => {
      if (stopped || retryTimer) return
      const run = () => {
        retryTimer = undefined
        lastRetry = Date.now()
        if (st.retryAllNow(lastRetry)) outbox?.kick()
      }
      const delay = lastRetry + RECONNECT_RETRY_MS - Date.now()
      if (delay <= 0) run()
      else retryTimer = setTimeout(run, delay)
    }
    // A node that speaks our protocol connected (node-addressed messages can go now), or the
    // DHT gained a peer (lookups and announcements can work now).
    const onIdentify = (evt: CustomEvent<{ protocols: string[] }>) => {
      if (evt.detail.protocols.includes(MSG_PROTOCOL)) retrySoon()
    }
    const onDhtPeer = () => {
      retrySoon()
      if (announcedWithoutPeers) announce(true)
    }
    let offDhtPeer = () => {}

    const recipientsOf = (grant: Grant) => (grant.kind === 'owner' ? [grant.userId, identity.nodeId] : [grant.userId])

    return {
      name: 'messages',
      events,
      sweep,
      get pubsub() {
        if (!pubsub) throw new Error('messages is not started')
        return pubsub
      },
      async start() {
        const libp2p = components.net?.libp2p
        if (libp2p) {
          routes = msgRoutes({ libp2p, nodeId: identity.nodeId, log, signal: life.signal })
          await serve(libp2p, MSG_SPEC, receive, offense)
          libp2p.addEventListener('peer:identify', onIdentify as never)
          offDhtPeer = routes.onDhtPeer(onDhtPeer)
        }
        pubsub = appPubsub({ pubsub: libp2p?.services.pubsub, log, nodeId: identity.nodeId, wake: (sid) => wait.wake(`s:${sid}`), userKey })
        outbox = outboxWorker({
          store: st,
          log,
          deliver,
          backoffBaseMs: init.backoffBaseMs ?? 2_000,
          backoffMaxMs: init.backoffMaxMs ?? 30 * 60_000,
          attempted: (a) => events.dispatchEvent(new CustomEvent<OutboxAttempt>('outbox', { detail: a })),
        })
        housekeeping()
        tick = setInterval(housekeeping, TICK_MS)
        tick.unref?.()
        outbox.kick()
      },
      async stop() {
        stopped = true
        life.abort()
        clearInterval(tick)
        clearTimeout(retryTimer)
        wait.wakeAll()
        pubsub?.stop()
        const libp2p = components.net?.libp2p
        if (libp2p) {
          libp2p.removeEventListener('peer:identify', onIdentify as never)
          offDhtPeer()
          await libp2p.unhandle(MSG_PROTOCOL).catch(() => {})
        }
        await outbox?.stop()
        await sweepRun
      },

      send(grant, req) {
        if (!isKeyId(req.to)) throw new InvalidParams(`SendMsg: to must be a user id or a node id (27 base64url characters), got ${JSON.stringify(String(req.to)).slice(0, 40)}`)
        if (typeof req.app !== 'string' || !/^[\w.-]{0,128}$/.test(req.app)) throw new InvalidParams('SendMsg: app must be an app id (0-128 letters, digits, . _ -), "" for none')
        const body = encodeValue(req.body)
        if (body.length > MSG_MAX_BODY) throw new InvalidParams(`SendMsg: body is ${body.length} bytes encoded; the limit is ${MSG_MAX_BODY}`)
        const key = userKey(grant.userId, 'SendMsg')
        touch(grant.userId)
        const now = Date.now()
        const e = sealEnvelope(identity.nodeKey, key, { id: newMessageId(), from: grant.userId, to: req.to, app: req.app, body, sentAt: now })
        if (isLocal(e.to)) {
          // Through the same gate as messages from other nodes: refused, nothing is stored.
          db().transaction(() => {
            limits.accept(e, now)
            st.deliveredHere(e, now)
          })()
          wait.wake(`u:${ownerOf(e.to)}`)
        } else {
          const packed = encodeCbor(e)
          limits.checkOutbox(grant.userId, packed.length)
          st.enqueue(e, now, packed)
          outbox?.kick()
        }
        return e.id
      },

      read(grant, req) {
        touch(grant.userId)
        const count = req.count ?? 100
        if (!Number.isSafeInteger(count) || count < 1 || count > READ_MAX) throw new InvalidParams(`ReadMsg: count must be 1..${READ_MAX}`)
        if (req.since !== undefined && (!Number.isSafeInteger(req.since) || req.since < 0)) throw new InvalidParams('ReadMsg: since must be a seq (integer >= 0)')
        return st.read({ recipients: recipientsOf(grant), app: req.app, since: req.since, count })
      },

      async pull(grant, timeoutSec, gone) {
        touch(grant.userId)
        const deadline = Date.now() + Math.max(0, Math.min(timeoutSec, PULL_MAX_SEC)) * 1000
        const keys = [`u:${grant.userId}`, `s:${grant.sid}`]
        while (true) {
          // The caller's connection is gone: what it would take stays for the next pull.
          if (gone?.aborted) return []
          const events = pubsub?.take(grant.sid, PULL_BATCH) ?? []
          const msgs = st.read({ recipients: recipientsOf(grant), count: PULL_BATCH })
          const items: PullItem[] = [...events, ...msgs]
          const left = deadline - Date.now()
          if (items.length || left <= 0 || stopped) return items
          // Another session of the same user may take the message first: then wait on.
          await wait.any(keys, left)
        }
      },

      status(grant, id) {
        const s = st.status(id, grant.userId)
        if (!s) throw new NotFound(`no message ${id} sent by you on this node (finished ones are forgotten after 7 days)`)
        return s
      },
    }
  }
}
