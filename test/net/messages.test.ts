// Messages and app pubsub across real nodes on 127.0.0.1: large messages over /leither/msg, users
// on two nodes, the outbox across restarts of both sides, ReadMsg/PullMsg semantics, app topics,
// and a hostile peer on /leither/msg.
import { afterEach, describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import type { SingleKadDHT } from '@libp2p/kad-dht'
import { bootTest, callLocal, failure, loginPassport, ownerKey, type TestKernel } from '../helpers/kernel.ts'
import { tempDir } from '../helpers/node.ts'
import { createUserKey, findUserKey, generateKeyPair } from '../../runtime/identity/index.ts'
import { encodeValue } from '../../runtime/mimei/db/core.ts'
import { encodeCbor, request } from '../../runtime/net/wire.ts'
import { bunNoiseCrypto } from '../../runtime/net/crypto.ts'
import { MSG_MAX_FRAME, MSG_PROTOCOL, MSG_SPEC, newMessageId, sealEnvelope } from '../../runtime/msg/envelope.ts'
import type { InboxMessage } from '../../runtime/msg/store.ts'
import type { PubEvent } from '../../runtime/msg/pubsub.ts'
import { Reader, Tag, Writer } from '../../runtime/rpc/codec/index.ts'
import { hproseFrame, openSocket } from '../compat/frames.ts'

const nodes: TestKernel[] = []
const dirs: string[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function node(overrides: Record<string, unknown> = {}, dataDir?: string): Promise<TestKernel> {
  const k = await bootTest({ p2p: true, ...overrides }, dataDir)
  nodes.push(k)
  return k
}

/** Stops a node started by `node` (its data dir stays for a restart). */
async function stop(k: TestKernel): Promise<void> {
  nodes.splice(nodes.indexOf(k), 1)
  await k.stop()
}

const tcpAddr = (k: TestKernel) => k.net!.addrs().find((a) => a.includes('/tcp/') && !a.includes('/ws'))!

/**
 * Resolves once `k` lists its own addresses in its peer store: until then (about a second after
 * start) its DHT answers leave it out of provider lists, and a first lookup finds nothing.
 */
async function selfKnown(k: TestKernel): Promise<void> {
  const libp2p = k.net!.libp2p
  const known = async () => ((await libp2p.peerStore.get(libp2p.peerId).catch(() => undefined))?.addresses.length ?? 0) > 0
  if (await known()) return
  await new Promise<void>((resolve) => {
    const check = async () => {
      if (!(await known())) return
      libp2p.removeEventListener('self:peer:update', check)
      resolve()
    }
    libp2p.addEventListener('self:peer:update', check)
  })
}

/** Resolves once `k`'s DHT routing table holds a peer (lookups and announcements work then). */
function dhtReady(k: TestKernel): Promise<void> {
  const table = (k.net!.libp2p.services.dht as SingleKadDHT).routingTable as unknown as { size: number } & EventTarget
  if (table.size > 0) return Promise.resolve()
  return new Promise((resolve) => table.addEventListener('peer:add', () => resolve(), { once: true }))
}

/** Dials b from a and resolves once both have identified each other (protocols known). */
async function connect(a: TestKernel, b: TestKernel, opts: { dht?: boolean } = { dht: true }): Promise<void> {
  const identified = (k: TestKernel, other: TestKernel) =>
    new Promise<void>((resolve) => {
      const want = other.net!.libp2p.peerId
      const check = async () => {
        const peer = await k.net!.libp2p.peerStore.get(want).catch(() => undefined)
        if (peer?.protocols.includes(MSG_PROTOCOL)) {
          k.net!.libp2p.removeEventListener('peer:identify', check)
          resolve()
        }
      }
      k.net!.libp2p.addEventListener('peer:identify', check)
      void check()
    })
  const both = Promise.all([identified(a, b), identified(b, a)])
  await a.net!.libp2p.dial(multiaddr(tcpAddr(b)))
  await both
  if (opts.dht) await Promise.all([dhtReady(a), dhtReady(b), selfKnown(a), selfKnown(b)])
}

async function user(k: TestKernel, name: string): Promise<{ id: string; sid: string }> {
  const key = createUserKey(k.dataDir, name)
  const { sid } = (await callLocal(k, 'Login', loginPassport(k, key))) as { sid: string }
  return { id: key.id, sid }
}

const ownerSid = async (k: TestKernel) => ((await callLocal(k, 'Login', loginPassport(k))) as { sid: string }).sid
const send = (k: TestKernel, sid: string, msg: Record<string, unknown>) => callLocal(k, 'SendMsg', sid, msg) as Promise<string>
const pull = (k: TestKernel, sid: string, timeoutSec = 30) => callLocal(k, 'PullMsg', sid, timeoutSec) as Promise<(InboxMessage | PubEvent)[]>
const read = (k: TestKernel, sid: string, opts?: Record<string, unknown>) => callLocal(k, 'ReadMsg', sid, opts) as Promise<InboxMessage[]>

/** Pulls until `n` messages came (PullMsg may return them in several batches). */
async function pullMessages(k: TestKernel, sid: string, n: number): Promise<InboxMessage[]> {
  const got: InboxMessage[] = []
  while (got.length < n) {
    const items = await pull(k, sid)
    if (!items.length) throw new Error(`PullMsg timed out with ${got.length} of ${n} messages`)
    got.push(...(items.filter((i) => i.kind === 'msg') as InboxMessage[]))
  }
  return got
}

/** Log lines of a node that mention `text`. */
function logLines(k: TestKernel, text: string): string[] {
  const dir = join(k.dataDir, 'logs')
  return readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l.includes(text)))
}

describe('messages between nodes', () => {
  test('a 200 KB message crosses /leither/msg, and a 64 KB one back; the sender sees it delivered', async () => {
    const [a, b] = [await node(), await node()]
    await connect(a, b)
    const [alice, bob] = [await user(a, 'alice'), await user(b, 'bob')]
    const waiting = pull(b, bob.sid)
    const big = crypto.getRandomValues(new Uint8Array(200_000))
    const id = await send(a, alice.sid, { to: bob.id, app: 'files', body: { name: 'blob', data: big } })
    const [got] = await waiting
    expect(got).toMatchObject({ kind: 'msg', id, from: alice.id, fromNode: a.identity.nodeId, to: bob.id, app: 'files' })
    expect((got as InboxMessage).body).toEqual({ name: 'blob', data: big })
    expect((got as InboxMessage).sig.length).toBe(64)

    // The reply goes back over the route the message came by.
    const back = 'x'.repeat(64 * 1024)
    const replyWait = pull(a, alice.sid)
    await send(b, bob.sid, { to: alice.id, body: back })
    const [reply] = (await replyWait) as InboxMessage[]
    expect(reply).toMatchObject({ from: bob.id, to: alice.id, app: '', body: back })
    expect(await callLocal(a, 'MsgStatus', alice.sid, id)).toMatchObject({ state: 'delivered', deliveredTo: b.identity.nodeId, lastError: null })
  })

  test('two users on two nodes exchange messages; each only sees their own', async () => {
    const [a, b] = [await node(), await node()]
    await connect(a, b)
    const [alice, bob, carol] = [await user(a, 'alice'), await user(b, 'bob'), await user(b, 'carol')]
    const bobWaits = pull(b, bob.sid)
    await send(a, alice.sid, { to: bob.id, app: 'chat', body: { text: 'hi bob', n: 1n << 60n, at: new Date(1_700_000_000_000) } })
    const [m1] = (await bobWaits) as InboxMessage[]
    expect(m1).toMatchObject({ from: alice.id, to: bob.id, app: 'chat', body: { text: 'hi bob', n: 1n << 60n, at: new Date(1_700_000_000_000) } })

    const aliceWaits = pull(a, alice.sid)
    await send(b, bob.sid, { to: m1.from, app: 'chat', body: 'hi alice' })
    expect(await aliceWaits).toMatchObject([{ from: bob.id, fromNode: b.identity.nodeId, to: alice.id, body: 'hi alice' }])
    // Carol, on the same node as bob, got nothing; bob's unread queue is empty now.
    expect(await read(b, carol.sid)).toEqual([])
    expect(await pull(b, bob.sid, 0)).toEqual([])
  })

  test('a message to a node id reaches its owner', async () => {
    const [a, b] = [await node(), await node()]
    await connect(a, b)
    const [alice, bOwner] = [await user(a, 'alice'), await ownerSid(b)]
    const waits = pull(b, bOwner)
    await send(a, alice.sid, { to: b.identity.nodeId, app: 'admin', body: 'disk almost full?' })
    expect(await waits).toMatchObject([{ from: alice.id, to: b.identity.nodeId, body: 'disk almost full?' }])
  })
})

describe('offline peers', () => {
  test('a message to an offline node waits in the outbox across restarts of both nodes and is delivered when it is back', async () => {
    const dirA = tempDir()
    const dirB = tempDir()
    dirs.push(dirA, dirB)
    let a = await node({}, dirA)
    let b = await node({}, dirB)
    await connect(a, b)
    const [alice, bob] = [await user(a, 'alice'), await user(b, 'bob')]
    const bobNode = b.identity.nodeId
    await stop(b)

    const toUser = await send(a, alice.sid, { to: bob.id, app: 'chat', body: 'are you there?' })
    const toNode = await send(a, alice.sid, { to: bobNode, app: 'chat', body: 'node, are you there?' })
    expect(await callLocal(a, 'MsgStatus', alice.sid, toUser)).toMatchObject({ state: 'queued' })

    // The sender restarts: the outbox is in its database.
    await stop(a)
    a = await node({}, dirA)
    const aliceSid = await relogin(a, alice.id)
    expect(await callLocal(a, 'MsgStatus', aliceSid, toUser)).toMatchObject({ state: 'queued' })
    expect(await callLocal(a, 'MsgStatus', aliceSid, toNode)).toMatchObject({ state: 'queued' })

    // The recipient comes back (on a new port) and connects: both messages arrive.
    b = await node({}, dirB)
    const bobSid = await relogin(b, bob.id)
    const bOwner = await ownerSid(b)
    const bobWaits = pullMessages(b, bobSid, 1)
    const ownerWaits = pullMessages(b, bOwner, 1)
    // No waiting for the DHT here: retrying when peers appear is the node's own job.
    await connect(b, a, { dht: false })
    expect(await bobWaits).toMatchObject([{ id: toUser, from: alice.id, body: 'are you there?' }])
    expect(await ownerWaits).toMatchObject([{ id: toNode, to: bobNode, body: 'node, are you there?' }])

    // The inbox survives a restart of the receiver.
    await stop(b)
    b = await node({}, dirB)
    const again = await read(b, await relogin(b, bob.id), { since: 0 })
    expect(again.map((m) => m.id)).toEqual([toUser])
  })
})

/** Logs in again a user whose key `user` created (after a restart). */
async function relogin(k: TestKernel, userId: string): Promise<string> {
  return ((await callLocal(k, 'Login', loginPassport(k, findUserKey(k.dataDir, userId, () => {})))) as { sid: string }).sid
}

describe('ReadMsg and PullMsg on one node (offline)', () => {
  test('read marks read; since re-reads; app and count filter; PullMsg waits for the next message', async () => {
    await using k = await bootTest()
    const owner = await ownerSid(k)
    const [bob, carol] = [await user(k, 'bob'), await user(k, 'carol')]

    expect(await pull(k, bob.sid, 0)).toEqual([])
    const waiting = pull(k, bob.sid, 30)
    const first = await send(k, owner, { to: bob.id, app: 'chat', body: 'one' })
    expect(await waiting).toMatchObject([{ kind: 'msg', id: first, from: k.config.owner, fromNode: k.identity.nodeId, body: 'one' }])
    expect(await callLocal(k, 'MsgStatus', owner, first)).toMatchObject({ state: 'delivered', deliveredTo: '' })

    await send(k, owner, { to: bob.id, app: 'chat', body: 'two' })
    await send(k, owner, { to: bob.id, app: 'mail', body: 'three' })
    await send(k, carol.sid, { to: bob.id, body: 'four' })
    expect((await read(k, bob.sid, { app: 'mail' })).map((m) => m.body)).toEqual(['three'])
    expect((await read(k, bob.sid, { count: 1 })).map((m) => m.body)).toEqual(['two'])
    expect((await pull(k, bob.sid, 5)).map((m) => (m as InboxMessage).body)).toEqual(['four'])
    expect(await read(k, bob.sid)).toEqual([])
    const all = await read(k, bob.sid, { since: 0 })
    expect(all.map((m) => m.body)).toEqual(['one', 'two', 'three', 'four'])
    expect((await read(k, bob.sid, { since: all[1].seq })).map((m) => m.body)).toEqual(['three', 'four'])
    expect(await read(k, carol.sid, { since: 0 })).toEqual([])

    // A message to the node id is the owner's.
    await send(k, carol.sid, { to: k.identity.nodeId, body: 'to the node' })
    expect((await read(k, owner)).map((m) => m.body)).toEqual(['to the node'])
    expect(await read(k, bob.sid)).toEqual([])
  })

  test('over the WebSocket a pending PullMsg is a push channel: other calls answer meanwhile', async () => {
    await using k = await bootTest()
    const owner = await ownerSid(k)
    const bob = await user(k, 'bob')
    const ws = await openSocket(k.url.replace(/^http/, 'ws') + '/ws/', ['hprose'])
    const replies = new Map<number, (v: unknown) => void>()
    ws.addEventListener('message', (e) => {
      const bytes = new Uint8Array(e.data as ArrayBuffer)
      const reader = new Reader(bytes.subarray(4))
      expect(reader.readTag()).toBe(Tag.Result)
      replies.get(new DataView(bytes.buffer).getUint32(0))?.(reader.readValue())
    })
    const wsCall = (id: number, method: string, args: unknown[]) => {
      const answered = new Promise((resolve) => replies.set(id, resolve))
      ws.send(hproseFrame(id, new Writer().writeTag(Tag.Call).write(method).reset().write(args).writeTag(Tag.End).toBytes()))
      return answered
    }
    const push = wsCall(1, 'PullMsg', [bob.sid, 30])
    expect(await wsCall(2, 'WhoAmI', [bob.sid])).toMatchObject({ userid: bob.id })
    await send(k, owner, { to: bob.id, body: { hello: 'over ws' } })
    expect(await push).toMatchObject([{ kind: 'msg', to: bob.id, body: { hello: 'over ws' } }])
    ws.close()
  })

  test('bad arguments are refused; a remote recipient on an offline node is queued', async () => {
    await using k = await bootTest()
    const owner = await ownerSid(k)
    expect(await failure(send(k, owner, { to: 'nobody', body: 1 }))).toStartWith('InvalidParams: SendMsg: to must be')
    expect(await failure(send(k, owner, { to: k.identity.nodeId, body: 1, extra: 2 }))).toContain('unknown field extra')
    expect(await failure(send(k, owner, { to: k.identity.nodeId, body: new Uint8Array(230 * 1024) }))).toContain('the limit is')
    expect(await failure(read(k, owner, { count: 0 }))).toStartWith('InvalidParams')
    expect(await failure(callLocal(k, 'PullMsg', owner, 61))).toStartWith('InvalidParams')
    expect(await failure(callLocal(k, 'MsgStatus', owner, 'nope'))).toStartWith('NotFound')

    const stranger = generateKeyPair().id
    const id = await send(k, owner, { to: stranger, body: 'later' })
    const status = (await callLocal(k, 'MsgStatus', owner, id)) as { state: string }
    expect(status.state).toBe('queued')
  })
})

describe('pubsub for apps', () => {
  test('events cross nodes on app-scoped topics, reach other local sessions, and stop after Unsubscribe', async () => {
    const [a, b] = [await node(), await node()]
    await connect(a, b)
    const [pubA, subA, subB, otherApp] = [await ownerSid(a), await ownerSid(a), await ownerSid(b), await ownerSid(b)]
    expect(await callLocal(a, 'Subscribe', pubA, 'chat', 'room1')).toBe('leither/app/chat/room1')
    await callLocal(a, 'Subscribe', subA, 'chat', 'room1')
    await callLocal(b, 'Subscribe', subB, 'chat', 'room1')
    await callLocal(b, 'Subscribe', otherApp, 'game', 'room1')
    await subscribed(a, 'leither/app/chat/room1', b)

    const bWaits = pull(b, subB)
    const res = (await callLocal(a, 'Publish', pubA, 'chat', 'room1', { text: 'hello room', n: 7 })) as { peers: number; local: number }
    expect(res).toEqual({ peers: 1, local: 1 })
    const expected = { kind: 'pub', app: 'chat', topic: 'room1', from: a.config.owner, fromNode: a.identity.nodeId, data: { text: 'hello room', n: 7 } }
    expect(await bWaits).toMatchObject([expected])
    expect(await pull(a, subA, 0)).toMatchObject([expected])
    expect(await pull(a, pubA, 0)).toEqual([])
    expect(await pull(b, otherApp, 0)).toEqual([])

    expect(await callLocal(b, 'Unsubscribe', subB, 'chat', 'room1')).toBe(true)
    await callLocal(a, 'Publish', pubA, 'chat', 'room1', 'after')
    expect(await pull(a, subA, 5)).toMatchObject([{ data: 'after' }])
    expect(await pull(b, subB, 0)).toEqual([])
    expect(await failure(callLocal(a, 'Subscribe', pubA, 'bad app!', 't'))).toStartWith('InvalidParams')
  })
})

/** Resolves when `k`'s gossipsub sees `other` subscribed to `topic`. */
async function subscribed(k: TestKernel, topic: string, other: TestKernel): Promise<void> {
  const ps = k.net!.libp2p.services.pubsub
  const has = () => ps.getSubscribers(topic).some((p) => p.equals(other.net!.libp2p.peerId))
  if (has()) return
  await new Promise<void>((resolve) => {
    const check = () => {
      if (!has()) return
      ps.removeEventListener('subscription-change', check)
      resolve()
    }
    ps.addEventListener('subscription-change', check)
  })
}

describe('a hostile peer on /leither/msg', () => {
  test('malformed, oversized and forged messages are refused and logged once; honest peers are still served', async () => {
    const [victim, hostile, honest] = [await node(), await node(), await node()]
    await connect(hostile, victim)
    await connect(honest, victim)
    const bob = await user(victim, 'bob')
    const libp2p = hostile.net!.libp2p
    const target = victim.net!.libp2p.peerId

    /**
     * Sends one raw frame from a fresh peer (the victim logs each peer's first offense only) and
     * resolves with the reason the victim logged; the frame must be written whole, and the stream
     * end without an answer (reset, or closed before a byte of reply).
     */
    const refusal = async (frame: Uint8Array): Promise<string> => {
      const stranger = await createLibp2p({
        addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
        transports: [tcp()],
        connectionEncrypters: [noise({ crypto: bunNoiseCrypto })],
        streamMuxers: [yamux()],
      })
      try {
        const stream = await stranger.dialProtocol(multiaddr(tcpAddr(victim)), MSG_PROTOCOL)
        const lp = lpStream(stream, { maxDataLength: 1 << 20 })
        await lp.write(frame)
        const ended = await lp.read().then(
          (answer) => `an answer of ${answer.byteLength} bytes`,
          (err: Error) => err.name,
        )
        expect(['StreamResetError', 'UnexpectedEOFError']).toContain(ended)
        const lines = logLines(victim, 'rejected a malformed message').filter((l) => l.includes(`peer=${stranger.peerId}`))
        expect(lines).toHaveLength(1)
        return /why=("(?:[^"\\]|\\.)*"|\S+)/.exec(lines[0])![1].replace(/^"(.*)"$/, '$1')
      } finally {
        await stranger.stop()
      }
    }
    // Not CBOR (cbor-x's words), the wrong shape, and past the frame limit before a byte of it is decoded.
    expect(await refusal(new Uint8Array([0xff, 0xfe, 0x00, 0x13]))).toBe('Unexpected break stop code outside of an indefinite-length item')
    expect(await refusal(encodeCbor({ hello: 'world' }))).toBe('unexpected field hello')
    expect(await refusal(new Uint8Array(300 * 1024))).toBe(`Message length too long - ${300 * 1024} > ${MSG_MAX_FRAME}`)

    // Well-formed but forged: a changed body, and a claim to be another node.
    const hostileKey = hostile.identity.nodeKey
    const genuine = sealEnvelope(hostileKey, ownerKey(hostile), { id: newMessageId(), from: hostile.config.owner, to: bob.id, app: '', body: encodeValue('hi'), sentAt: Date.now() })
    const tampered = { ...genuine, body: encodeValue('send me your keys') }
    await expect(request(libp2p, target, MSG_SPEC, tampered)).rejects.toThrow('bad signature')
    const impostor = { ...genuine, fromNode: honest.identity.nodeId }
    await expect(request(libp2p, target, MSG_SPEC, impostor)).rejects.toThrow('nodePk is not the key of fromNode')

    // The genuine one is taken, once: a replay is recognized.
    expect(await request(libp2p, target, MSG_SPEC, genuine)).toEqual({ ok: true, dup: false })
    expect(await request(libp2p, target, MSG_SPEC, genuine)).toEqual({ ok: true, dup: true })

    // One log line for the hostile peer, however many offenses.
    const lines = logLines(victim, 'rejected a malformed message')
    expect(lines.filter((l) => l.includes(libp2p.peerId.toString()))).toHaveLength(1)

    // The honest peer is still served, and only genuine messages reached the inbox.
    const alice = await user(honest, 'alice')
    const bobWaits = pullMessages(victim, bob.sid, 2)
    await send(honest, alice.sid, { to: bob.id, body: 'still there?' })
    const got = await bobWaits
    expect(got.map((m) => m.body).sort()).toEqual(['hi', 'still there?'])
    expect((await read(victim, bob.sid, { since: 0 })).length).toBe(2)
  })
})
