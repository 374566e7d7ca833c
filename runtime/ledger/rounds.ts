// Voting rounds for a conflict neither block won (docs/coin.md): counting a round's votes, the stall
// proof (no block can reach a quorum in that round), and a notary's one vote in the next round.
import { Conflict } from '../errors.ts'
import type { KeyPair } from '../identity/index.ts'
import { checkNext, decodeBlock, hex, sameBytes, type Block, type ChainContext } from './block.ts'
import { cosigBytes, verifyCosig, type Cosig } from './notary.ts'
import type { FinalBlock } from './proto.ts'
import { edSign } from './sig.ts'
import type { LedgerStore } from './store.ts'

/** Rounds tried after the first before a conflict is left to a later transfer. */
export const MAX_ROUNDS = 3

export interface Tally {
  readonly block: Block
  /** Distinct configured notaries whose vote of the round for this block verifies. */
  readonly voters: string[]
  readonly cosigs: Cosig[]
}

/**
 * Counts the votes of `round` in `proof` (blocks with co-signatures), each notary once. Every block
 * must follow the same predecessor of the same account.
 */
export function tally(proof: readonly FinalBlock[], round: number, notaries: readonly string[], keyFor: (c: Cosig) => Uint8Array | undefined): Tally[] {
  const seen = new Set<string>()
  const out: Tally[] = []
  for (const f of proof) {
    const b = decodeBlock(f.block)
    const first = out[0]?.block
    if (first && (first.account !== b.account || !sameBytes(first.prev, b.prev))) throw new Conflict('a stall proof names blocks after different predecessors')
    let t = out.find((x) => sameBytes(x.block.hash, b.hash))
    if (!t) out.push((t = { block: b, voters: [], cosigs: [] }))
    for (const c of f.cosigs) {
      if ((c.round ?? 0) !== round || !notaries.includes(c.notary) || seen.has(c.notary)) continue
      const key = keyFor(c)
      if (!key || !verifyCosig(key, b.hash, c.sig, round)) continue
      seen.add(c.notary)
      t.voters.push(c.notary)
      t.cosigs.push({ notary: c.notary, sig: c.sig, key, round })
    }
  }
  return out
}

/** No block can reach `quorum` votes in the round: each has fewer than quorum even with every notary not yet seen. */
export function stalled(t: readonly Tally[], notaries: number, quorum: number): boolean {
  const voters = t.reduce((n, x) => n + x.voters.length, 0)
  return t.length > 0 && t.every((x) => x.voters.length + (notaries - voters) < quorum)
}

/** The block the next round votes for: the most votes, ties to the lowest hash. */
export function winnerOf(t: readonly Tally[]): Block {
  return [...t].sort((x, y) => y.voters.length - x.voters.length || (hex(x.block.hash) < hex(y.block.hash) ? -1 : 1))[0]!.block
}

/**
 * This notary's vote in round `round + 1`, given only for a stall proof of `round` and only for its
 * winner, and at most once per round (kept in coin_votes before it is given).
 */
export function revote(
  nodeKey: KeyPair,
  store: LedgerStore,
  ctx: ChainContext,
  proof: readonly FinalBlock[],
  round: number,
  notaries: readonly string[],
  quorum: number,
  keyFor: (c: Cosig) => Uint8Array | undefined,
): FinalBlock {
  const t = tally(proof, round, notaries, keyFor)
  if (!stalled(t, notaries.length, quorum)) throw new Conflict(`round ${round} is not stalled: a block may still reach ${quorum} votes`)
  const w = winnerOf(t)
  const head = store.head(w.account)
  if (head ? !sameBytes(head.hash, w.prev) : w.prev.length !== 0) throw new Conflict('the account has a final block after that predecessor already')
  const next = round + 1
  const had = store.vote(w.account, w.prev, next)
  if (had && !sameBytes(had.hash, w.hash)) throw new Conflict(`this notary voted for another block in round ${next}`)
  if (!had) {
    checkNext(head, w, store.openKey(w.account), ctx, { has: (s) => store.isReceived(Buffer.from(s, 'hex')) })
    store.noteVote(w, next)
  }
  return { block: { body: w.body, sig: w.sig }, cosigs: [{ notary: nodeKey.id, sig: edSign(nodeKey, cosigBytes(w.hash, next)), key: nodeKey.publicKey, round: next }] }
}

/** This notary's vote of `round` after `prev` (signed again: Ed25519 gives the same signature), if it gave one. */
export function myVote(nodeKey: KeyPair, store: LedgerStore, account: string, prev: Uint8Array, round: number): FinalBlock[] {
  const b = store.vote(account, prev, round)
  if (!b) return []
  return [{ block: { body: b.body, sig: b.sig }, cosigs: [{ notary: nodeKey.id, sig: edSign(nodeKey, cosigBytes(b.hash, round)), key: nodeKey.publicKey, round }] }]
}
