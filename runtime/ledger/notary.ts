// Notaries: who they are, the quorum, and this node's co-signature, given only to a block that
// extends the account's chain as this node knows it and to no other block after the same predecessor.
import { Conflict } from '../errors.ts'
import { NOTARY_PREFIX, prefixed, type KeyPair } from '../identity/index.ts'
import { checkNext, BlockError, hex, sameBytes, type Block, type ChainContext } from './block.ts'
import { edSign as sign, edVerify as verify } from './sig.ts'
import type { LedgerStore } from './store.ts'

export interface Cosig {
  readonly notary: string
  readonly sig: Uint8Array
  /**
   * The notary's public key, so a node that never met the notary can check the signature: it
   * counts only when its key id is the notary's id, which the network config names.
   */
  readonly key?: Uint8Array
  /** The voting round (docs/coin.md): absent or 0 for the first vote after a predecessor. */
  readonly round?: number
}

/**
 * Two thirds of `n` notaries, rounded up, and always a majority: any two quorums share a notary,
 * and a notary signs one block per predecessor, so two conflicting blocks never both become final.
 * With three notaries, two suffice: one may be down.
 */
export const quorumOf = (n: number): number => Math.max(Math.ceil((2 * n) / 3), Math.floor(n / 2) + 1)

/** What a notary signs: the block hash, and past round 0 the round (so a vote of one round never counts in another). */
export const cosigBytes = (hash: Uint8Array, round = 0): Uint8Array =>
  prefixed(NOTARY_PREFIX, round === 0 ? hash : new Uint8Array([...hash, ...new TextEncoder().encode(`#${round}`)]))

export function verifyCosig(publicKey: Uint8Array, hash: Uint8Array, sig: Uint8Array, round = 0): boolean {
  return verify(publicKey, cosigBytes(hash, round), sig)
}

/**
 * Checks `b` against the account's head here and co-signs it, recording that this node signed
 * `b` after its predecessor (unless `alone`: the only notary, appending `b` in the same
 * transaction). Throws Conflict when another block after the same predecessor was signed before
 * (a double spend), BlockError when `b` does not extend the chain.
 */
export function cosign(nodeKey: KeyPair, store: LedgerStore, ctx: ChainContext, b: Block, alone = false): Cosig {
  const signed = store.noted(b.account, b.prev)
  if (signed && !sameBytes(signed, b.hash)) {
    throw new Conflict(`another block of account ${b.account} after the same predecessor was notarized (${hex(signed).slice(0, 16)}…): a double spend is refused`)
  }
  if (!signed) {
    const head = store.head(b.account)
    if (head && !sameBytes(head.hash, b.prev)) {
      // Its predecessor is in the chain but not the head: another block after it is final.
      if (store.byHash(b.prev)?.account === b.account) throw new Conflict(`another block of account ${b.account} after the same predecessor is final: a double spend is refused`)
      throw new BlockError('wrong predecessor: not the head of the account')
    }
    checkNext(head, b, store.openKey(b.account), ctx, { has: (s) => store.isReceived(Buffer.from(s, 'hex')) })
    // The only notary appends the block as final in the same transaction: the final block itself refuses any rival.
    if (!alone) store.note(b)
  }
  return { notary: nodeKey.id, sig: sign(nodeKey, cosigBytes(b.hash)), key: nodeKey.publicKey }
}
