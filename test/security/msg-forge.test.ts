// Defect 8: senders of messages and app events could be forged: a node claimed another user's id.
// Now the user's key signs what carries the user's name, the receiving node checks it against the
// user id (the public key travels with the signature), and forged ones are refused and never shown.
import { describe, expect, test } from 'bun:test'
import type { Libp2p } from '@libp2p/interface'
import { createUserKey, DOMAIN, fields, generateKeyPair, keyId, sign, verify, type KeyPair } from '../../runtime/identity/index.ts'
import { encodeValue } from '../../runtime/mimei/db/core.ts'
import { MSG_SPEC, newMessageId, signedBytes } from '../../runtime/msg/envelope.ts'
import type { InboxMessage } from '../../runtime/msg/store.ts'
import type { PubEvent } from '../../runtime/msg/pubsub.ts'
import { encodeCbor, request } from '../../runtime/net/wire.ts'
import { callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { bootNetwork, until } from '../helpers/network.ts'

const login = async (k: TestKernel, key?: KeyPair) => ((await callLocal(k, 'Login', loginPassport(k, key))) as { sid: string }).sid
const lib = (k: TestKernel) => k.net!.libp2p as Libp2p

interface Content {
  id: string
  from: string
  to: string
  app: string
  body: Uint8Array
  sentAt: number
}
const content = (from: string, to: string, text: string): Content => ({ id: newMessageId(), from, to, app: 'chat', body: encodeValue(text), sentAt: Date.now() })
/** What the sending user signs: recipient, time, id, app and body. */
const userBytes = (m: Content) => fields(DOMAIN.msgUser, [m.id, m.from, m.to, m.app, m.body, m.sentAt])
/** An envelope as a node sends it: its own node signature, and the user signature given. */
function envelope(node: TestKernel, m: Content, userPk: Uint8Array, userSig: Uint8Array) {
  const key = node.identity.nodeKey
  const f = { ...m, fromNode: key.id }
  return { v: 1 as const, ...f, nodePk: key.publicKey, sig: sign(key, signedBytes(f)), userPk, userSig }
}

describe('messages carry their sender\'s signature', () => {
  test('a node cannot send a message in the name of a user whose key it lacks; a relayed genuine one is taken', async () => {
    await using net = await bootNetwork(2)
    const [victim, hostile] = net.nodes
    const bob = createUserKey(victim.dataDir, 'bob')
    const bobSid = await login(victim, bob)
    const alice = generateKeyPair()
    const mallory = generateKeyPair()
    const target = lib(victim).peerId
    const send = (e: ReturnType<typeof envelope>) => request(lib(hostile), target, MSG_SPEC as never, e as never)

    // As before: only the node's signature, and alice's name in from.
    const m0 = content(alice.id, bob.id, 'hello, this is alice')
    const key = hostile.identity.nodeKey
    const nodeOnly = { v: 1 as const, ...m0, fromNode: key.id, nodePk: key.publicKey, sig: sign(key, signedBytes({ ...m0, fromNode: key.id })) }
    await expect(request(lib(hostile), target, MSG_SPEC as never, nodeOnly as never)).rejects.toThrow()
    // Mallory's key, alice's name.
    const m1 = content(alice.id, bob.id, 'pay mallory')
    await expect(send(envelope(hostile, m1, mallory.publicKey, sign(mallory, userBytes(m1))))).rejects.toThrow('userPk is not the key of from')
    // Alice's public key, mallory's signature.
    const m2 = content(alice.id, bob.id, 'pay mallory now')
    await expect(send(envelope(hostile, m2, alice.publicKey, sign(mallory, userBytes(m2))))).rejects.toThrow('bad user signature')
    // Alice signed it, the node changed the body (and signed that as itself).
    const m3 = content(alice.id, bob.id, 'see you at 5')
    const aliceSig = sign(alice, userBytes(m3))
    await expect(send(envelope(hostile, { ...m3, body: encodeValue('see you never') }, alice.publicKey, aliceSig))).rejects.toThrow('bad user signature')
    // Alice signed it for someone else.
    await expect(send(envelope(hostile, { ...m3, to: victim.identity.nodeId }, alice.publicKey, aliceSig))).rejects.toThrow('bad user signature')

    // The genuine one, relayed by any node, is taken once (a replay through another node is the same message).
    expect(await send(envelope(hostile, m3, alice.publicKey, aliceSig))).toEqual({ ok: true, dup: false })
    expect(await send(envelope(hostile, m3, alice.publicKey, aliceSig))).toEqual({ ok: true, dup: true })
    const inbox = (await callLocal(victim, 'ReadMsg', bobSid, { since: 0 })) as InboxMessage[]
    expect(inbox.map((m) => [m.from, m.body])).toEqual([[alice.id, 'see you at 5']])
  })

  test('what apps get proves the sender: from is the key id of pk, and sig verifies', async () => {
    await using net = await bootNetwork(2, { waitForDht: true })
    const [a, b] = net.nodes
    const alice = createUserKey(a.dataDir, 'alice')
    const bob = createUserKey(b.dataDir, 'bob')
    const [aliceSid, bobSid] = [await login(a, alice), await login(b, bob)]
    const waits = callLocal(b, 'PullMsg', bobSid, 30) as Promise<(InboxMessage & { pk: Uint8Array })[]>
    const id = (await callLocal(a, 'SendMsg', aliceSid, { to: bob.id, app: 'chat', body: 'hello bob' })) as string
    const [m] = await waits
    expect(m).toMatchObject({ id, from: alice.id, to: bob.id, body: 'hello bob' })
    expect(keyId(m.pk)).toBe(alice.id)
    expect(verify(m.pk, userBytes({ id, from: alice.id, to: bob.id, app: 'chat', body: encodeValue('hello bob'), sentAt: m.sentAt }), m.sig)).toBe(true)
  })

  test('a session whose key this node does not hold cannot send or publish: it is told why', async () => {
    await using net = await bootNetwork(1)
    const [k] = net.nodes
    const sid = await login(k, generateKeyPair())
    expect(await failure(callLocal(k, 'SendMsg', sid, { to: k.identity.nodeId, body: 'hi' }))).toStartWith('PermissionDenied: SendMsg signs with the sender\'s key')
    expect(await failure(callLocal(k, 'Publish', sid, 'chat', 'room', 'hi'))).toStartWith('PermissionDenied: Publish signs with the sender\'s key')
  })
})

describe("app events carry their publisher's signature", () => {
  test('events with a forged from are dropped; genuine ones arrive with from proven', async () => {
    await using net = await bootNetwork(2)
    const [victim, hostile] = net.nodes
    const subSid = await login(victim)
    const topic = await callLocal(victim, 'Subscribe', subSid, 'chat', 'room')
    // The hostile node subscribes too: once each side has seen the other's subscription, both
    // gossipsub streams are open and a publish reaches the victim.
    const ps = hostile.net!.libp2p.services.pubsub
    ps.subscribe(topic as string)
    const sees = (k: TestKernel, other: TestKernel) => {
      const kps = k.net!.libp2p.services.pubsub
      return until(kps, ['subscription-change'], () => kps.getSubscribers(topic as string).some((p) => p.equals(lib(other).peerId)) || undefined, 'a subscription to arrive')
    }
    await Promise.all([sees(hostile, victim), sees(victim, hostile)])

    const alice = generateKeyPair()
    const mallory = generateKeyPair()
    const forge = (signer: KeyPair, pk: Uint8Array, text: string) => {
      const data = encodeValue(text)
      const sentAt = Date.now()
      const sig = sign(signer, fields(DOMAIN.pubUser, [topic as string, alice.id, data, sentAt]))
      return encodeCbor({ v: 1, from: alice.id, pk, sig, data, sentAt })
    }
    // As before: a payload nobody signed but the publishing node.
    await ps.publish(topic as string, encodeCbor({ v: 1, from: alice.id, data: encodeValue('forged: unsigned'), sentAt: Date.now() }))
    await ps.publish(topic as string, forge(mallory, mallory.publicKey, 'forged: mallory key'))
    await ps.publish(topic as string, forge(mallory, alice.publicKey, 'forged: bad signature'))
    // Then a genuine event from the hostile node's owner, whose key it holds.
    const ownerSid = await login(hostile)
    expect(await callLocal(hostile, 'Publish', ownerSid, 'chat', 'room', 'genuine')).toEqual({ peers: 1, local: 0 })
    const got: PubEvent[] = []
    while (!got.some((e) => e.data === 'genuine')) {
      const items = (await callLocal(victim, 'PullMsg', subSid, 30)) as PubEvent[]
      if (!items.length) break
      got.push(...items)
    }
    expect(got.map((e) => [e.from, e.data])).toEqual([[hostile.config.owner, 'genuine']])
  })
})
