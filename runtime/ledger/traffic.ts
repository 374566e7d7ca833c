// Traffic credits (Swarm's SWAP as the model): meters per peer node on the block, mimei and relay
// protocols, a free allowance, asking a debtor to settle at the payment threshold, paying such
// requests from the node account, and refusing to serve a peer past the disconnect threshold.
import type { Database } from 'bun:sqlite'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { PaymentRequired } from '../errors.ts'
import { keyId, type Identity } from '../identity/index.ts'
import type { BaseComponents, Subsystem } from '../kernel.ts'
import type { Net } from '../net/index.ts'
import { offenseLog } from '../net/wire.ts'
import type { Ledger } from './index.ts'
import { registerTraffic } from './traffic-hook.ts'
import { debtOf, disconnectAt, MICRO, stateOf, trafficMeters, type MeterRow, type TrafficPrices, type TrafficState } from './traffic-meter.ts'
import { askSettle, serveSettle, TRAFFIC_PROTOCOL } from './traffic-proto.ts'
import { peerIdFromString } from '@libp2p/peer-id'
import { meterRelay, relayOf } from './traffic-relay.ts'

/** The memo of a traffic payment: a final send with it to this node's account pays its sender's debt. */
export const TRAFFIC_MEMO = 'traffic'
/** How long a request past the disconnect threshold waits for the payment it asked for to arrive here. */
const CREDIT_WAIT_MS = 5000

/** One peer node as CoinTraffic shows it. Amounts in 毫. */
export interface TrafficRow {
  /** The peer's node id (its account). */
  peer: string
  /** Bytes this node served it (relayed included), relayed for it as a circuit relay, received from it. */
  served: number
  relayed: number
  received: number
  /** Bytes it forwarded to this node as a circuit relay. */
  receivedRelayed: number
  /** What it owes this node now, past its allowance and its payments. */
  debt: bigint
  /** What it paid this node, and what this node paid it. */
  credited: bigint
  paid: bigint
  /** Its account's balance on this node's ledger. */
  balance: bigint
  /** Free traffic it has left. */
  allowance: bigint
  state: TrafficState
  /** Its last refusal to settle, if any. */
  refused: string
}

export interface Traffic extends Subsystem {
  /** 'change' (CustomEvent, detail: the peer's node id) after a payment, a refusal or a change of state. */
  readonly events: EventTarget
  rows(): TrafficRow[]
  row(peer: string): TrafficRow
  /** Turns the metering of the block and mimei protocols off and on while running (trafficMeter decides at start). */
  metering(on: boolean): void
}

export interface TrafficComponents extends BaseComponents {
  readonly identity: Identity
  readonly db: () => Database
  readonly ledger: Ledger
  readonly net?: Net
}

const byLedger = new WeakMap<Ledger, Traffic>()
/** The traffic subsystem working with this ledger (CoinTraffic finds it there). */
export const trafficOf = (ledger: Ledger): Traffic | undefined => byLedger.get(ledger)

export function traffic() {
  return (c: TrafficComponents): Traffic => {
    const log = c.log.child('traffic')
    const prices = (): TrafficPrices => ({
      price: c.config.trafficPrice,
      relayPrice: c.config.trafficRelayPrice,
      allowance: c.config.trafficAllowance,
      refill: c.config.trafficRefill,
      payThreshold: c.config.trafficPayThreshold,
    })
    const meters = trafficMeters(c.db, prices)
    const events = new EventTarget()
    const changed = (peer: string) => events.dispatchEvent(new CustomEvent('change', { detail: peer }))
    const ids = new Map<string, string>()
    /** A peer's node id: the key id of its libp2p Ed25519 key. */
    const idOf = (peer: PeerId): string | undefined => {
      const s = peer.toString()
      let id = ids.get(s)
      if (id === undefined) {
        const raw = (peer as { publicKey?: { raw?: Uint8Array } }).publicKey?.raw
        if (raw?.length !== 32) return undefined
        if (ids.size > 10_000) ids.clear()
        ids.set(s, (id = keyId(raw)))
      }
      return id
    }

    // — the creditor's side —
    const asking = new Map<string, Promise<void>>()
    /** Each peer's state when last metered, to tell listeners when it changes. */
    const states = new Map<string, TrafficState>()
    const lastAsk = new Map<string, number>()
    /** Asks `peer` to settle its debt; resolves when it answered (the credit comes with its final payment). */
    const ask = (peer: PeerId, id: string): Promise<void> => {
      const had = asking.get(id)
      if (had) return had
      const m = meters.get(id)
      lastAsk.set(id, Date.now())
      const run = askSettle(libp2p(), peer, { owed: Number(debtOf(m)), served: m.served })
        .then((r) => {
          if (r.paid > 0 && m.refused) meters.refused(id, '')
          log.debug('settled', { peer: id, paid: r.paid })
        })
        .catch((err) => {
          meters.refused(id, (err as Error).message)
          log.warn('a peer did not settle its traffic debt', { peer: id, debt: String(debtOf(m)), why: (err as Error).message })
          changed(id)
        })
        .finally(() => asking.delete(id))
      asking.set(id, run)
      return run
    }
    /** Without a ledger shared with the peers (coinNotaries empty: each node notarizes alone) no one could pay: meters only count. */
    const enforced = () => c.config.coinNotaries.length > 0
    const charge = (peer: PeerId, bytes: number, relay: boolean) => {
      const id = idOf(peer)
      if (!id) return
      const m = meters.served(id, bytes, relay)
      const state = stateOf(m, prices())
      if (state !== states.get(id)) states.set(id, state), changed(id)
      // A peer that refused is asked again at most every ten seconds while it is served.
      if (state !== 'ok' && enforced() && !asking.has(id) && (!m.refused || Date.now() - (lastAsk.get(id) ?? 0) > 10_000)) void ask(peer, id)
    }
    const gate = (peer: PeerId): Promise<void> | undefined => {
      const id = idOf(peer)
      if (!id || stateOf(meters.get(id), prices()) !== 'cut off' || !enforced()) return undefined
      return (async () => {
        await ask(peer, id)
        // The payment is final on the debtor's node when it answers; its block reaches this node just after.
        await new Promise<void>((done) => {
          if (stateOf(meters.get(id), prices()) !== 'cut off' || meters.get(id).refused) return done()
          const off = () => (events.removeEventListener('change', on), clearTimeout(guard), done())
          const on = (e: Event) => (e as CustomEvent<string>).detail === id && stateOf(meters.get(id), prices()) !== 'cut off' && off()
          const guard = setTimeout(off, CREDIT_WAIT_MS)
          events.addEventListener('change', on)
        })
        const m = meters.get(id)
        if (stateOf(m, prices()) !== 'cut off') return
        throw new PaymentRequired(
          `node ${c.identity.nodeId} does not serve node ${id} until it pays: its traffic debt is ${debtOf(m)} 毫, past the disconnect threshold of ${disconnectAt(prices())} 毫` +
            (m.refused ? ` (it did not settle: ${m.refused})` : '') +
            '; its node pays from its account when asked (trafficPay in leither.json; leither coin traffic shows the meters)',
        )
      })()
    }

    // — the debtor's side —
    const paying = new Map<string, Promise<unknown>>()
    /**
     * What this node's own count lets a creditor ask in all, less what it paid it: the bytes it
     * served here at the price and those it relayed here at the relay price, and a tenth more (a
     * relay counts the connection's framing too). Nothing received, nothing paid: a new identity
     * that asks gets nothing.
     */
    const payable = (m: MeterRow): bigint => {
      const p = prices()
      const cost = BigInt(m.received) * BigInt(p.price) + BigInt(m.receivedRelayed) * BigInt(p.relayPrice)
      return (cost * 11n) / 10n / MICRO - m.paid
    }
    async function settle(owed: number, peer: PeerId) {
      const id = idOf(peer)
      if (!id) throw new Error('this node pays node accounts only (an Ed25519 peer id)')
      if (!c.config.trafficPay) throw new Error(`node ${c.identity.nodeId} does not pay for traffic (trafficPay is false in its leither.json)`)
      // One payment to a creditor at a time; a second request waits for it and counts again.
      const prev = paying.get(id) ?? Promise.resolve()
      const run = prev.catch(() => {}).then(async () => {
        const m = meters.get(id)
        const amount = BigInt(owed) < payable(m) ? BigInt(owed) : payable(m)
        if (amount <= 0n) return { paid: 0 }
        const b = await c.ledger.transfer(c.identity.nodeKey, id, amount, TRAFFIC_MEMO)
        log.info('paid a traffic debt', { peer: id, amount: String(amount) })
        return { paid: Number(amount), block: Buffer.from(b.hash).toString('hex') }
      })
      paying.set(id, run)
      void run.catch(() => {}).finally(() => paying.get(id) === run && paying.delete(id))
      return run
    }

    const libp2p = (): Libp2p => c.net!.libp2p
    const hook = {
      served: (peer: PeerId, bytes: number) => charge(peer, bytes, false),
      received(peer: PeerId, bytes: number) {
        const id = idOf(peer)
        if (id) meters.received(id, bytes)
        // Bytes that came through a circuit were also relayed to this node: the relay may bill them.
        const relay = relayOf(libp2p(), peer)
        const rid = relay && idOf(peerIdFromString(relay))
        if (rid) meters.received(rid, bytes, true)
      },
      gate,
    }
    let unregister = () => {}
    let undoRelay = async () => {}
    let timer: ReturnType<typeof setInterval> | undefined
    const offFinal = c.ledger.onFinal((b) => {
      if (b.type !== 'send' || b.memo !== TRAFFIC_MEMO) return
      if (b.to === c.identity.nodeId) {
        states.set(b.account, stateOf(meters.credit(b.account, b.amount! * MICRO), prices()))
        changed(b.account)
      } else if (b.account === c.identity.nodeId) {
        meters.paid(b.to!, b.amount!)
        changed(b.to!)
      } else return
      // Payments are written at once; bytes counted since the last write go with them.
      meters.flush()
    })

    const view = (id: string): TrafficRow => {
      const m = meters.peek(id)
      return {
        peer: id,
        served: m.served,
        relayed: m.relayed,
        received: m.received,
        receivedRelayed: m.receivedRelayed,
        debt: debtOf(m),
        credited: m.credited / MICRO,
        paid: m.paid,
        balance: c.ledger.info(id).balance,
        allowance: m.allowance / MICRO,
        state: enforced() ? stateOf(m, prices()) : 'ok',
        refused: m.refused,
      }
    }

    const t: Traffic = {
      name: 'traffic',
      events,
      rows: () => meters.all().map((m) => view(m.peer)),
      metering(on) {
        unregister()
        unregister = () => {}
        if (on && c.net) unregister = registerTraffic(libp2p(), hook)
      },
      row: view,
      async start() {
        timer = setInterval(() => meters.flush(), 1000)
        timer.unref?.()
        if (!c.net) return
        await serveSettle(libp2p(), (req, peer) => settle(req.owed, peer), offenseLog(log))
        if (!c.config.trafficMeter) return
        t.metering(true)
        undoRelay = await meterRelay(libp2p(), {
          served: (peer, bytes) => charge(peer, bytes, true),
          gate: async (peer) => gate(peer),
          refusing(peer) {
            const id = idOf(peer)
            const m = id ? meters.get(id) : undefined
            return !!m && !!m.refused && enforced() && stateOf(m, prices()) === 'cut off'
          },
        })
      },
      async stop() {
        clearInterval(timer)
        unregister()
        await undoRelay()
        if (c.net) await libp2p().unhandle(TRAFFIC_PROTOCOL.id).catch(() => {})
        offFinal()
        meters.flush()
      },
    }
    byLedger.set(c.ledger, t)
    return t
  }
}
