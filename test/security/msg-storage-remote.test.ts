// Defect 3, messages from other nodes: what arrives over /leither/msg passes the same inbox gate
// as a local SendMsg, a refused message is answered with the protocol's refusal, and the sending
// node's outbox keeps it, says why (MsgStatus lastError) and delivers it once there is room.
import { describe, expect, test } from 'bun:test'
import type { Libp2p } from '@libp2p/interface'
import { createUserKey, type KeyPair } from '../../runtime/identity/index.ts'
import { encodeValue } from '../../runtime/mimei/db/core.ts'
import type { InboxMessage, OutboxStatus } from '../../runtime/msg/store.ts'
import { MSG_SPEC, newMessageId, sealEnvelope } from '../../runtime/msg/envelope.ts'
import { request } from '../../runtime/net/wire.ts'
import { callLocal, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { bootNetwork } from '../helpers/network.ts'

const login = async (k: TestKernel, key?: KeyPair) => ((await callLocal(k, 'Login', loginPassport(k, key))) as { sid: string }).sid
const lib = (k: TestKernel) => k.net!.libp2p as Libp2p

/** Resolves after the outbox of `k` has tried to deliver message `id` once more. */
function nextAttempt(k: TestKernel, id: string): Promise<{ id: string; ok: boolean; error?: string }> {
  return new Promise((resolve) => {
    const on = (e: Event) => {
      const d = (e as CustomEvent<{ id: string; ok: boolean; error?: string }>).detail
      if (d.id !== id) return
      k.messages.events.removeEventListener('outbox', on)
      resolve(d)
    }
    k.messages.events.addEventListener('outbox', on)
  })
}

describe('messages from other nodes pass the same gate', () => {
  test('past msgInboxMax a node refuses over /leither/msg; the sender\'s outbox says why and delivers once there is room', async () => {
    await using net = await bootNetwork(2, { config: { msgInboxMax: 3 }, waitForDht: true })
    const [a, b] = net.nodes
    const alice = createUserKey(a.dataDir, 'alice')
    const bob = createUserKey(b.dataDir, 'bob')
    const [aliceSid, bobSid] = [await login(a, alice), await login(b, bob)]
    // Bob writes to node a (connected: no lookup), so a learns where bob is.
    const hello = (await callLocal(b, 'SendMsg', bobSid, { to: a.identity.nodeId, app: 'chat', body: 'hello a' })) as string
    expect(await nextAttempt(b, hello)).toMatchObject({ ok: true })

    // A first message through the outbox.
    const first = (await callLocal(a, 'SendMsg', aliceSid, { to: bob.id, app: 'chat', body: 'one' })) as string
    const delivered = await nextAttempt(a, first)
    expect(delivered).toMatchObject({ ok: true })
    // Two more straight over the protocol fill bob's inbox; the fourth is refused, and said so.
    const envelope = (text: string) =>
      sealEnvelope(a.identity.nodeKey, alice, { id: newMessageId(), from: alice.id, to: bob.id, app: 'chat', body: encodeValue(text), sentAt: Date.now() })
    const post = (text: string) => request(lib(a), lib(b).peerId, MSG_SPEC, envelope(text))
    expect(await post('two')).toEqual({ ok: true, dup: false })
    expect(await post('three')).toEqual({ ok: true, dup: false })
    await expect(post('four')).rejects.toThrow(`the inbox of ${bob.id} is full: 3 unread messages`)

    // Through SendMsg: the message stays queued with the refusal as its last error.
    const fifth = (await callLocal(a, 'SendMsg', aliceSid, { to: bob.id, app: 'chat', body: 'five' })) as string
    const refused = await nextAttempt(a, fifth)
    expect(refused.ok).toBe(false)
    expect(refused.error).toContain(`the inbox of ${bob.id} is full`)
    const status = (await callLocal(a, 'MsgStatus', aliceSid, fifth)) as OutboxStatus
    expect(status.state).toBe('queued')
    expect(status.lastError).toContain(`the inbox of ${bob.id} is full: 3 unread messages`)
    expect(((await callLocal(b, 'ReadMsg', bobSid, { since: 0 })) as InboxMessage[]).map((m) => m.body)).toEqual(['one', 'two', 'three'])

    // Bob has read them now: the retry finds room.
    // (A try that set out before ReadMsg may still come back refused; the backoff brings the next.)
    let tries = 0
    while (!(await nextAttempt(a, fifth)).ok) expect(++tries).toBeLessThan(3)
    expect(await callLocal(a, 'MsgStatus', aliceSid, fifth)).toMatchObject({ state: 'delivered', deliveredTo: b.identity.nodeId })
    expect(((await callLocal(b, 'ReadMsg', bobSid)) as InboxMessage[]).map((m) => m.body)).toEqual(['five'])
  })
})
