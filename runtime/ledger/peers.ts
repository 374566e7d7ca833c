// The ledger among nodes: asking the other notaries to co-sign, handing final blocks on (gossipsub,
// and /leither/coin/1.0.0 to nodes off the topic), taking in theirs, catching up from a peer ahead.
import type { PeerId } from '@libp2p/interface'
import { keyId, type Identity } from '../identity/index.ts'
import type { Logger } from '../log/index.ts'
import type { Net } from '../net/index.ts'
import { offenseLog } from '../net/wire.ts'
import { cosignBatcher } from './batch.ts'
import { coinGossip, type CoinGossip } from './gossip.ts'
import { checkNext, decodeBlock, sameBytes, type Block, type ChainContext } from './block.ts'
import { cosign, quorumOf, verifyCosig, type Cosig } from './notary.ts'
import { askRevote, askVote, CHAIN_PAGE, COIN_PROTOCOL, fetchChain, peersByNodeId, sendFinal, serveCoin, type FinalBlock } from './proto.ts'
import { myVote, revote } from './rounds.ts'
import type { LedgerStore } from './store.ts'

export interface PeersComponents {
  readonly identity: Identity
  readonly net?: Net
  readonly log: Logger
  readonly store: LedgerStore
  readonly ctx: ChainContext
  readonly notaries: () => string[]
  /** Appends a block that became final (and receives it for a local key). */
  readonly finalized: (b: Block, cosigs: readonly Cosig[]) => void
}

export interface LedgerPeers {
  /** Asks the other notaries; resolves once `need` co-signed or all answered. */
  cosigs(b: Block, others: string[], need: number): Promise<{ cosigs: Cosig[]; refusals: string[] }>
  /** Hands a final block to every connected node. */
  broadcast(f: FinalBlock): Promise<void>
  /** The votes of a round after a predecessor: this notary's and those of the others that answer. */
  votes(account: string, prev: Uint8Array, round: number): Promise<FinalBlock[]>
  /** The next round's votes for a stall proof of `round`: this notary's and the others'. */
  revotes(proof: FinalBlock[], round: number): Promise<FinalBlock[]>
  /** The key a co-signature is checked with (see keyFor). */
  keyFor(c: Cosig): Uint8Array | undefined
  start(): Promise<void>
  stop(): Promise<void>
}

export function ledgerPeers(c: PeersComponents): LedgerPeers {
  const { store, ctx, notaries, finalized } = c
  /** Kept while the node runs: a notary's key learned from a connection still checks its co-signatures once it is gone. */
  const knownKeys = new Map<string, Uint8Array>()
  const learnKeys = () => void notaryKeys()
  const notaryKeys = () => {
    knownKeys.set(c.identity.nodeId, c.identity.nodeKey.publicKey)
    if (c.net) for (const [id, p] of peersByNodeId(c.net.libp2p)) knownKeys.set(id, p.publicKey)
    return knownKeys
  }

  /**
   * The key a co-signature is checked with: the notary's as learned from a connection or an earlier
   * co-signature, else the one it carries when that key's id is the notary id the config names.
   */
  const keyFor = (s: Cosig): Uint8Array | undefined => notaryKeys().get(s.notary) ?? (s.key?.length === 32 && keyId(s.key) === s.notary ? s.key : undefined)
  /**
   * The co-signatures of `hash` that count: from distinct notaries of the config, each verified with
   * its key (then remembered), all of one round (the round with the most; a quorum must be of one round).
   */
  function validCosigs(hash: Uint8Array, cosigs: readonly Cosig[]): Cosig[] {
    const all = notaries()
    const byRound = new Map<number, Cosig[]>()
    for (const s of cosigs) {
      const round = s.round ?? 0
      const group = byRound.get(round) ?? []
      if (!all.includes(s.notary) || group.some((o) => o.notary === s.notary)) continue
      const key = keyFor(s)
      if (!key || !verifyCosig(key, hash, s.sig, round)) continue
      knownKeys.set(s.notary, key)
      group.push({ notary: s.notary, sig: s.sig, key, ...(round ? { round } : {}) })
      byRound.set(round, group)
    }
    return [...byRound.values()].sort((x, y) => y.length - x.length)[0] ?? []
  }
  /** Co-signatures as handed on: each with its notary's key when known here. */
  const withKeys = (cosigs: readonly Cosig[]): Cosig[] =>
    cosigs.map((s) => ({ notary: s.notary, sig: s.sig, ...(s.key ?? knownKeys.get(s.notary) ? { key: s.key ?? knownKeys.get(s.notary) } : {}), ...(s.round ? { round: s.round } : {}) }))

  /** Takes in a block made final elsewhere: a quorum of valid co-signatures, and it extends the chain here. */
  function acceptFinal(f: FinalBlock): void {
    const b = decodeBlock(f.block)
    if (store.byHash(b.hash)) return
    const all = notaries()
    const valid = validCosigs(b.hash, f.cosigs)
    if (valid.length < quorumOf(all.length)) throw new Error(`a final block needs ${quorumOf(all.length)} valid notary co-signatures, it has ${valid.length}`)
    const head = store.head(b.account)
    if (head ? !sameBytes(head.hash, b.prev) : b.type !== 'open') throw new Error('the block does not extend the chain known here')
    checkNext(head, b, store.openKey(b.account), ctx, { has: (s) => store.isReceived(Buffer.from(s, 'hex')) })
    finalized(b, valid)
  }

  /** Takes in the final blocks of an account this node lacks, from a peer that has them. */
  async function catchUp(peer: PeerId, account: string): Promise<void> {
    for (let page = 0; page < 1000; page++) {
      const blocks = await fetchChain(c.net!.libp2p, peer, account, store.height(account))
      for (const f of blocks) acceptFinal(f)
      if (blocks.length < CHAIN_PAGE) return
    }
  }
  /** A block from a peer that does not follow this node's head of its account: catch up on that account from the peer. */
  const behind = (b: Block) => b.type !== 'open' && !store.byHash(b.prev)
  /** A dependency that does not hold is left out; the block is then checked without it. */
  const tryAccept = (f: FinalBlock) => {
    try {
      acceptFinal(f)
    } catch {}
  }

  let gossip: CoinGossip | undefined
  const batched = cosignBatcher(() => c.net!.libp2p)
  const finalOf = (b: Block | undefined): FinalBlock[] => (b ? [{ block: { body: b.body, sig: b.sig }, cosigs: withKeys(store.cosigsOf(b.hash)) }] : [])

  /** Asks the other notaries this node is connected to; resolves once `need` co-signed or all answered. */
  async function askNotaries(b: Block, others: string[], need: number): Promise<{ cosigs: Cosig[]; refusals: string[] }> {
    const cosigs: Cosig[] = []
    const refusals: string[] = []
    if (!c.net || need <= 0) return { cosigs, refusals }
    const peers = peersByNodeId(c.net.libp2p)
    const deps = [...finalOf(b.prev.length ? store.byHash(b.prev) : undefined), ...finalOf(b.type === 'receive' ? store.byHash(b.source!) : undefined)]
    await new Promise<void>((done) => {
      let left = others.length
      if (!left) return done()
      for (const id of others) {
        const p = peers.get(id)
        const ask = p ? batched(p.peer, b, deps) : Promise.reject(new Error(`notary ${id} is not connected`))
        ask
          .then((sig) => {
            if (verifyCosig(p!.publicKey, b.hash, sig)) cosigs.push({ notary: id, sig, key: p!.publicKey })
            else refusals.push(`${id}: bad co-signature`)
          })
          .catch((err) => refusals.push(`${id}: ${err instanceof Error ? err.message : 'the stream ended'}`))
          .finally(() => (--left === 0 || cosigs.length >= need) && done())
      }
    })
    return { cosigs, refusals }
  }

  const me = () => c.identity.nodeKey
  const amNotary = () => notaries().includes(c.identity.nodeId)
  /** Asks every other connected notary; the answers of those that answer, concatenated. */
  async function fromOthers(ask: (peer: PeerId) => Promise<FinalBlock[]>): Promise<FinalBlock[]> {
    if (!c.net) return []
    const peers = peersByNodeId(c.net.libp2p)
    const others = notaries().filter((n) => n !== c.identity.nodeId && peers.has(n))
    const answers = await Promise.allSettled(others.map((n) => ask(peers.get(n)!.peer)))
    return answers.flatMap((a) => (a.status === 'fulfilled' ? a.value : []))
  }
  const localRevote = (proof: FinalBlock[], round: number): FinalBlock[] => [revote(me(), store, ctx, proof, round, notaries(), quorumOf(notaries().length), keyFor)]

  return {
    keyFor,
    async votes(account, prev, round) {
      const mine = amNotary() ? myVote(me(), store, account, prev, round) : []
      return [...mine, ...(await fromOthers((p) => askVote(c.net!.libp2p, p, account, prev, round)))]
    },
    async revotes(proof, round) {
      let mine: FinalBlock[] = []
      try {
        if (amNotary()) mine = localRevote(proof, round)
      } catch {} // this notary voted otherwise in that round: the others may still decide
      return [...mine, ...(await fromOthers((p) => askRevote(c.net!.libp2p, p, proof, round)))]
    },
    cosigs: askNotaries,
    async broadcast(f) {
      f = { block: f.block, cosigs: withKeys(f.cosigs) }
      if (!c.net) return
      // By gossip to the nodes that subscribe (the mesh carries it on), directly to the connected ones that do not.
      const subscribed = gossip?.subscribers() ?? new Set<string>()
      await Promise.allSettled([
        gossip?.publish(f),
        ...[...peersByNodeId(c.net.libp2p).values()].filter((p) => !subscribed.has(p.peer.toString())).map((p) => sendFinal(c.net!.libp2p, p.peer, f)),
      ])
    },
    async start() {
      if (!c.net) return
      c.net.libp2p.addEventListener('connection:open', learnKeys)
      gossip = coinGossip(c.net.libp2p, c.log, async (f, from) => {
        const b = decodeBlock(f.block)
        if (store.byHash(b.hash)) return
        if (behind(b) && from) await catchUp(from, b.account)
        acceptFinal(f)
      })
      await serveCoin(
        c.net.libp2p,
        {
          async cosign(block, deps, peer) {
            const b = decodeBlock(block)
            for (const d of deps) tryAccept(d)
            if (behind(b)) await catchUp(peer, b.account)
            const source = b.type === 'receive' && !store.byHash(b.source!) ? deps.map((d) => decodeBlock(d.block)).find((d) => sameBytes(d.hash, b.source!)) : undefined
            if (source) await catchUp(peer, source.account)
            return cosign(c.identity.nodeKey, store, ctx, b).sig
          },
          async final(f, peer) {
            const b = decodeBlock(f.block)
            if (behind(b)) await catchUp(peer, b.account)
            acceptFinal(f)
          },
          chain: (account, from) => store.chainFrom(account, from, CHAIN_PAGE).map((b) => finalOf(b)[0]!),
          vote: (account, prev, round) => myVote(me(), store, account, prev, round),
          revote: (proof, round) => localRevote(proof, round),
        },
        offenseLog(c.log),
      )
    },
    async stop() {
      if (!c.net) return
      gossip?.stop()
      gossip = undefined
      c.net.libp2p.removeEventListener('connection:open', learnKeys)
      await c.net.libp2p.unhandle(COIN_PROTOCOL.id).catch(() => {})
    },
  }
}
