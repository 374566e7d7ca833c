// Pubsub for apps: gossipsub topics scoped by app id (leither/app/<app>/<topic>), subscribed per
// session; events received for a session wait in a bounded queue until PullMsg takes them. The
// publishing user signs each event (topic, from, data, time); events whose signature does not
// prove their `from` are dropped and not forwarded, so apps only ever see proven senders.
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub'
import { InvalidParams } from '../errors.ts'
import { DOMAIN, fields, keyId, sign, verify, type KeyPair } from '../identity/index.ts'
import type { Logger } from '../log/index.ts'
import { decodeValue, encodeValue } from '../mimei/db/core.ts'
import { nodeIdOfPeer } from './route.ts'
import { bytes, decodeCbor, encodeCbor, int, object, str } from '../net/wire.ts'

/** An app event as PullMsg returns it. */
export interface PubEvent {
  readonly kind: 'pub'
  readonly app: string
  readonly topic: string
  /** User id of the publisher, proven by their signature (checked by this node). */
  readonly from: string
  /** Node id of the publisher's node (from the gossipsub signature, not from the payload). */
  readonly fromNode: string
  readonly data: unknown
  readonly sentAt: number
}

/** Told to the session when its queue overflowed and events were lost. */
export interface DroppedEvents {
  readonly kind: 'dropped'
  readonly count: number
}

export type QueuedEvent = PubEvent | DroppedEvents

export const TOPIC_PREFIX = 'leither/app/'
/** Largest encoded `data` of one event: gossip copies every message to many peers. */
export const PUB_MAX_DATA = 64 * 1024
const QUEUE_MAX = 1000
const TOPICS_PER_SESSION = 64
/** A session that neither pulls nor subscribes for this long loses its subscriptions. */
export const SESSION_IDLE_MS = 10 * 60_000

/** Events older than this (or further in the future) are ignored: a signed event cannot be replayed later. */
const PUB_MAX_AGE_MS = 5 * 60_000
const PUB_MAX_AHEAD_MS = 60_000
/** Signatures of events seen within PUB_MAX_AGE_MS, to ignore the same event published again. */
const SEEN_MAX = 20_000

const payloadSchema = object({ v: int, from: str(64), pk: bytes(32), sig: bytes(64), data: bytes(PUB_MAX_DATA), sentAt: int })

/** The bytes the publishing user signs: the gossipsub topic, the sender, the data and the time. */
export function pubSignedBytes(topic: string, from: string, data: Uint8Array, sentAt: number): Uint8Array {
  return fields(DOMAIN.pubUser, [topic, from, data, sentAt])
}

export function topicName(app: string, topic: string): string {
  if (!/^[\w.-]{1,128}$/.test(app)) throw new InvalidParams(`app id "${app}" must be 1-128 letters, digits, . _ -`)
  if (typeof topic !== 'string' || topic.length < 1 || topic.length > 256) throw new InvalidParams('topic must be 1-256 characters')
  return `${TOPIC_PREFIX}${app}/${topic}`
}

interface SessionSubs {
  readonly topics: Set<string>
  readonly queue: QueuedEvent[]
  dropped: number
  lastActive: number
}

export interface AppPubsubInit {
  /** The node's gossipsub; undefined on an offline node (events then stay on this node). */
  readonly pubsub: GossipSub | undefined
  readonly log: Logger
  /** This node's id, the fromNode of events published here. */
  readonly nodeId: string
  /** Called with a session id when an event was queued for it. */
  readonly wake: (sid: string) => void
  /** The key of a user publishing here; throws (PermissionDenied) when this node does not hold it. */
  readonly userKey: (userId: string, call: string) => KeyPair
}

export function appPubsub(init: AppPubsubInit) {
  const { pubsub, log } = init
  const sessions = new Map<string, SessionSubs>()
  const topics = new Map<string, { app: string; topic: string; sids: Set<string> }>()

  const enqueue = (sid: string, ev: PubEvent) => {
    const s = sessions.get(sid)
    if (!s) return
    if (s.queue.length >= QUEUE_MAX) {
      s.queue.shift()
      s.dropped++
    }
    s.queue.push(ev)
    init.wake(sid)
  }

  const decode = (msg: Message) => {
    if (msg.type !== 'signed') throw new Error('unsigned')
    const p = payloadSchema(decodeCbor(msg.data))
    if (keyId(p.pk) !== p.from) throw new Error('pk is not the key of from')
    if (!verify(p.pk, pubSignedBytes(msg.topic, p.from, p.data, p.sentAt), p.sig)) throw new Error('bad user signature')
    return p
  }

  /** Payloads the validator accepted, so the message handler does not check the signature again. */
  const accepted = new WeakMap<Message, ReturnType<typeof payloadSchema>>()
  const seen = new Map<string, number>()
  /** True the first time a recent event is seen; false for stale ones and repeats. */
  const fresh = (sig: Uint8Array, sentAt: number, now: number) => {
    if (sentAt < now - PUB_MAX_AGE_MS || sentAt > now + PUB_MAX_AHEAD_MS) return false
    const key = Buffer.from(sig).toString('base64')
    if (seen.has(key)) return false
    if (seen.size >= SEEN_MAX) {
      for (const [k, at] of seen) if (at < now - PUB_MAX_AGE_MS || seen.size >= SEEN_MAX) seen.delete(k)
    }
    seen.set(key, sentAt)
    return true
  }

  // Malformed and forged events are neither delivered nor forwarded, and gossipsub scores their
  // sender down; stale and repeated ones are ignored (an honest peer may be slow).
  const validate = (_peer: unknown, msg: Message) => {
    let p
    try {
      p = decode(msg)
    } catch {
      return TopicValidatorResult.Reject
    }
    if (!fresh(p.sig, p.sentAt, Date.now())) return TopicValidatorResult.Ignore
    accepted.set(msg, p)
    return TopicValidatorResult.Accept
  }

  const onMessage = (evt: CustomEvent<Message>) => {
    const msg = evt.detail
    const t = topics.get(msg.topic)
    if (!t || msg.type !== 'signed') return
    try {
      const p = accepted.get(msg) ?? decode(msg)
      const ev: PubEvent = { kind: 'pub', app: t.app, topic: t.topic, from: p.from, fromNode: nodeIdOfPeer(msg.from) ?? '', data: decodeValue(p.data), sentAt: p.sentAt }
      for (const sid of t.sids) enqueue(sid, ev)
    } catch (err) {
      log.debug('dropped an app event', { topic: msg.topic, error: (err as Error).message })
    }
  }
  pubsub?.addEventListener('message', onMessage)

  const leave = (sid: string, name: string) => {
    sessions.get(sid)?.topics.delete(name)
    const t = topics.get(name)
    if (!t) return
    t.sids.delete(sid)
    if (t.sids.size === 0) {
      topics.delete(name)
      pubsub?.unsubscribe(name)
      pubsub?.topicValidators.delete(name)
    }
  }

  return {
    subscribe(sid: string, app: string, topic: string): string {
      const name = topicName(app, topic)
      const s = sessions.get(sid) ?? { topics: new Set<string>(), queue: [], dropped: 0, lastActive: Date.now() }
      if (!s.topics.has(name) && s.topics.size >= TOPICS_PER_SESSION) {
        throw new InvalidParams(`a session may subscribe to ${TOPICS_PER_SESSION} topics at most; Unsubscribe some first`)
      }
      sessions.set(sid, s)
      s.lastActive = Date.now()
      s.topics.add(name)
      const t = topics.get(name)
      if (t) t.sids.add(sid)
      else {
        topics.set(name, { app, topic, sids: new Set([sid]) })
        pubsub?.topicValidators.set(name, validate)
        pubsub?.subscribe(name)
      }
      return name
    },

    unsubscribe(sid: string, app: string, topic: string): boolean {
      const name = topicName(app, topic)
      const had = sessions.get(sid)?.topics.has(name) ?? false
      leave(sid, name)
      return had
    },

    /** Sends an event to the topic's subscribers: other nodes through gossipsub, other sessions here directly. */
    async publish(sid: string, userId: string, app: string, topic: string, data: unknown): Promise<{ peers: number; local: number }> {
      const name = topicName(app, topic)
      const encoded = encodeValue(data)
      if (encoded.length > PUB_MAX_DATA) throw new InvalidParams(`Publish: data is ${encoded.length} bytes encoded; the limit is ${PUB_MAX_DATA}`)
      const key = init.userKey(userId, 'Publish')
      const sentAt = Date.now()
      let peers = 0
      if (pubsub) {
        const sig = sign(key, pubSignedBytes(name, userId, encoded, sentAt))
        peers = (await pubsub.publish(name, encodeCbor({ v: 1, from: userId, pk: key.publicKey, sig, data: encoded, sentAt }))).recipients.length
      }
      const others = [...(topics.get(name)?.sids ?? [])].filter((s) => s !== sid)
      const ev: PubEvent = { kind: 'pub', app, topic, from: userId, fromNode: init.nodeId, data: decodeValue(encoded), sentAt }
      for (const s of others) enqueue(s, ev)
      return { peers, local: others.length }
    },

    /** Takes up to `max` queued events of a session (a lost-events notice first, if any). */
    take(sid: string, max: number): QueuedEvent[] {
      const s = sessions.get(sid)
      if (!s) return []
      s.lastActive = Date.now()
      const out: QueuedEvent[] = []
      if (s.dropped) {
        out.push({ kind: 'dropped', count: s.dropped })
        s.dropped = 0
      }
      return out.concat(s.queue.splice(0, max))
    },

    /** Topics (app/topic) a session is subscribed to. */
    subscriptions(sid: string): string[] {
      return [...(sessions.get(sid)?.topics ?? [])].map((n) => n.slice(TOPIC_PREFIX.length))
    },

    /** Drops sessions idle for SESSION_IDLE_MS: sessions end without telling us, so inactivity is the signal. */
    sweep(now: number): void {
      for (const [sid, s] of sessions) {
        if (now - s.lastActive < SESSION_IDLE_MS) continue
        for (const name of [...s.topics]) leave(sid, name)
        sessions.delete(sid)
      }
    },

    stop(): void {
      pubsub?.removeEventListener('message', onMessage)
      for (const name of topics.keys()) {
        pubsub?.unsubscribe(name)
        pubsub?.topicValidators.delete(name)
      }
      topics.clear()
      sessions.clear()
    },
  }
}

export type AppPubsub = ReturnType<typeof appPubsub>
