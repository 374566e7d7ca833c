// The coin ledger subsystem: accounts' chains in SQLite, transfers made final by the notaries'
// co-signatures (this node alone in a one-node network), and receives signed for local keys.
import type { Database } from 'bun:sqlite'
import { Conflict, InvalidParams, Timeout } from '../errors.ts'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { isKeyId, loadUserKey, type KeyPair } from '../identity/index.ts'
import type { Identity } from '../identity/index.ts'
import type { BaseComponents, Subsystem } from '../kernel.ts'
import type { Net } from '../net/index.ts'
import { BlockError, decodeBlock, makeBlock, MEMO_MAX, sameBytes, type Block, type ChainContext, type SignedBlock } from './block.ts'
import { MAX_ROUNDS, stalled, tally } from './rounds.ts'
import { cosign, quorumOf, type Cosig } from './notary.ts'
import { ledgerPeers } from './peers.ts'
import { ledgerStore, type LedgerStore } from './store.ts'

export * from './block.ts'

export interface AccountInfo {
  account: string
  /** 毫 on the account's chain. */
  balance: bigint
  /** 毫 sent to the account, final, not yet received into its chain. */
  pending: bigint
  /** Blocks in the account's chain. */
  height: number
}

export interface Ledger extends Subsystem {
  readonly genesis: string
  readonly supply: bigint
  readonly notaries: readonly string[]
  info(account: string): AccountInfo
  /** Sends from the account of `key`; resolves when final (and received, when the receiver's key is here). */
  transfer(key: KeyPair, to: string, amount: bigint, memo?: string): Promise<Block>
  /** Notarizes and appends a signed block; resolves with it once final. */
  submit(signed: SignedBlock): Promise<Block>
  history(account: string, start: number, count: number): Block[]
  chain(account: string): Block[]
  /** The notaries' co-signatures of a final block. */
  cosigsOf(hash: Uint8Array): Cosig[]
  /** The key of an account when this node holds it (a user key in the data dir, or the node key). */
  keyOf(account: string): KeyPair | undefined
  /** Sum of every chain's balance and every pending send: equals the supply when all is well. */
  total(): bigint
  /** Called with every block that became final here (made here or taken in from another node). */
  onFinal(listener: (b: Block) => void): () => void
}

export interface LedgerComponents extends BaseComponents {
  readonly identity: Identity
  readonly db: () => Database
  /** Absent on an offline node: then only this node can notarize. */
  readonly net?: Net
}

export function ledger() {
  return (c: LedgerComponents): Ledger => {
    const log = c.log.child('ledger')
    const store: LedgerStore = ledgerStore(c.db)
    // Read when used: the owner is known once identity has started (a first run creates it).
    const genesisId = () => c.config.coinGenesis || c.config.owner
    const supply = BigInt(c.config.coinSupply)
    const ctx: ChainContext = {
      get genesis() {
        return genesisId()
      },
      supply,
      sendOf: (h: Uint8Array) => store.byHash(h),
    }
    const notaries = () => (c.config.coinNotaries.length ? c.config.coinNotaries : [c.identity.nodeId])
    // One block at a time per account: a second transfer builds on the first instead of conflicting.
    const queues = new Map<string, Promise<unknown>>()
    const serial = <T>(account: string, fn: () => Promise<T>): Promise<T> => {
      const run = (queues.get(account) ?? Promise.resolve()).then(fn, fn)
      const tail = run.catch(() => {})
      queues.set(account, tail)
      void tail.then(() => queues.get(account) === tail && queues.delete(account))
      return run
    }

    // A user key file is read again only when it changed (reading and deriving its public key on every block cost more than the block).
    const userKeys = new Map<string, { key: KeyPair; stamp: string }>()
    const keyOf = (account: string): KeyPair | undefined => {
      if (account === c.identity.nodeId) return c.identity.nodeKey
      if (!isKeyId(account)) return undefined
      const st = statSync(join(c.dataDir, 'keys', 'users', `${account}.key`), { throwIfNoEntry: false })
      const stamp = st ? `${st.mtimeMs}/${st.size}/${st.ino}` : ''
      const had = userKeys.get(account)
      if (had && had.stamp === stamp) return had.key
      userKeys.delete(account)
      const key = st ? loadUserKey(c.dataDir, account, (m) => log.warn(m)) : undefined
      if (key) {
        if (userKeys.size > 1000) userKeys.clear()
        userKeys.set(account, { key, stamp })
      }
      return key
    }

    const listeners = new Set<(b: Block) => void>()
    const finalized = (b: Block, cosigs: readonly Cosig[]) => {
      store.append(b, cosigs)
      announce(b)
    }
    /** Tells listeners of a block just made final, and receives a send for a local key. */
    const announce = (b: Block) => {
      for (const l of listeners) l(b)
      const receiver = b.type === 'send' ? keyOf(b.to!) : undefined
      if (receiver && !sending.has(b.hash)) void receiveAll(receiver).catch((err) => log.warn('receive failed', { account: b.to, error: (err as Error).message }))
    }
    /** Sends this node made: the transfer itself receives them (and awaits it). */
    const sending = new Set<Uint8Array>()

    const peers = ledgerPeers({ identity: c.identity, net: c.net, log, store, ctx, notaries, finalized })

    /** Before an account's next block: one this notary co-signed that found no quorum gets another try (also after a restart). */
    const retryUnfinished = async (account: string) => {
      const b = store.unfinished(account)
      if (b) await submit({ body: b.body, sig: b.sig })
    }

    async function submit(signed: SignedBlock): Promise<Block> {
      let b: Block
      try {
        b = decodeBlock(signed)
      } catch (err) {
        throw new InvalidParams(`not a ledger block: ${(err as Error).message}`)
      }
      if (store.byHash(b.hash)) return b
      const cosigs: Cosig[] = []
      const all = notaries()
      const need = quorumOf(all.length)
      const others = all.filter((n) => n !== c.identity.nodeId)
      const cosignHere = (alone = false) => {
        try {
          cosigs.push(cosign(c.identity.nodeKey, store, ctx, b, alone))
        } catch (err) {
          if (err instanceof BlockError) throw new Conflict(`block refused: ${err.message}`)
          throw err
        }
      }
      if (others.length === 0 && need === 1 && all[0] === c.identity.nodeId) {
        // This node is the only notary: its note and the final block are written in one transaction.
        store.batch(() => {
          cosignHere(true)
          store.append(b, cosigs)
        })
        announce(b)
        return b
      }
      if (all.includes(c.identity.nodeId)) cosignHere()
      const remote = await peers.cosigs(b, others, need - cosigs.length)
      cosigs.push(...remote.cosigs)
      if (cosigs.length < need) {
        const why = remote.refusals.join('; ')
        if (/double spend/.test(why)) {
          // Notaries voted for a rival after the same predecessor: if neither can win, the next round decides (docs/coin.md).
          const won = await settleConflict(b, all, need)
          if (won && sameBytes(won.block.hash, b.hash)) return finish(b, won.cosigs)
          if (won) {
            finish(won.block, won.cosigs)
            throw new Conflict(`block refused: a conflicting block of account ${b.account} after the same predecessor won the notaries' vote (a double spend is refused)`)
          }
        }
        if (/double spend|predecessor/.test(why)) throw new Conflict(`block refused by the notaries: ${why}`)
        // This node co-signed it: no other block may follow the same predecessor here, so it is tried again first.
        const later = cosigs.some((x) => x.notary === c.identity.nodeId) ? '; the block is tried again before the account\'s next one and may still become final' : ''
        throw new Timeout(`no quorum: ${cosigs.length} of ${all.length} notaries co-signed, ${need} needed (coinNotaries in leither.json)${why ? `: ${why}` : ''}${later}`)
      }
      return finish(b, cosigs)
    }

    /** Appends a block a quorum co-signed and hands it on. */
    function finish(b: Block, cosigs: readonly Cosig[]): Block {
      if (store.byHash(b.hash)) return b
      if (b.type === 'send') sending.add(b.hash)
      finalized(b, cosigs)
      sending.delete(b.hash)
      // Final now: the other nodes learn of it in the background (a notary lacking it gets it with the account's next block).
      void peers.broadcast({ block: { body: b.body, sig: b.sig }, cosigs: [...cosigs] })
      return b
    }

    /**
     * A conflict neither block won: gathers each round's votes and, while no block can reach a
     * quorum in it (a stall proof), asks the notaries for the next round's. Returns the block a
     * quorum of one round voted for, or undefined (notaries missing: it may be tried again later).
     */
    async function settleConflict(b: Block, all: readonly string[], need: number): Promise<{ block: Block; cosigs: Cosig[] } | undefined> {
      for (let round = 0; round <= MAX_ROUNDS; round++) {
        const votes = await peers.votes(b.account, b.prev, round)
        const t = tally(votes, round, all, peers.keyFor)
        const won = t.find((x) => x.voters.length >= need)
        if (won) return { block: won.block, cosigs: won.cosigs }
        if (round === MAX_ROUNDS || !stalled(t, all.length, need)) return undefined
        const next = tally(await peers.revotes(votes, round), round + 1, all, peers.keyFor).find((x) => x.voters.length >= need)
        if (next) return { block: next.block, cosigs: next.cosigs }
      }
      return undefined
    }

    // Opens and receives are made the same way every time (their time is fixed: 0, the send's), so
    // one made again after a crash is the very block the notaries may have co-signed before.
    const open = (key: KeyPair) =>
      submit(makeBlock(key, { type: 'open', prev: new Uint8Array(), balance: key.id === genesisId() ? supply : 0n, time: 0, key: key.publicKey }))

    /** Receives every final send waiting for an account whose key is here. */
    const receiveAll = (key: KeyPair) =>
      serial(key.id, async () => {
        await retryUnfinished(key.id)
        if (!store.head(key.id)) await open(key)
        for (const send of store.pending(key.id)) {
          const head = store.head(key.id)!
          await submit(makeBlock(key, { type: 'receive', prev: head.hash, balance: head.balance + send.amount!, time: send.time, amount: send.amount, source: send.hash }))
        }
      })

    return {
      name: 'ledger',
      get genesis() {
        return genesisId()
      },
      supply,
      get notaries() {
        return notaries()
      },
      async start() {
        await peers.start()
        // With other notaries this waits for them: the genesis account is opened on its first transfer.
        const key = keyOf(genesisId())
        if (key && !store.head(key.id) && notaries().every((n) => n === c.identity.nodeId)) {
          await serial(key.id, () => open(key))
          log.info('opened the genesis account', { account: key.id, supply: String(supply) })
        }
      },
      async stop() {
        await peers.stop()
      },
      info(account) {
        const head = store.head(account)
        const pending = store.pending(account).reduce((n, b) => n + b.amount!, 0n)
        return { account, balance: head?.balance ?? 0n, pending, height: store.height(account) }
      },
      async transfer(key, to, amount, memo = '') {
        if (amount <= 0n) throw new InvalidParams('the amount is an integer of 毫 > 0')
        if (to === key.id) throw new InvalidParams('a transfer to the same account')
        if (memo.length > MEMO_MAX) throw new InvalidParams(`a memo is at most ${MEMO_MAX} characters`)
        if (store.pending(key.id).length || (key.id === genesisId() && !store.head(key.id))) await receiveAll(key)
        const sent = await serial(key.id, async () => {
          await retryUnfinished(key.id)
          const head = store.head(key.id)
          const balance = head?.balance ?? 0n
          if (!head || balance < amount) {
            throw new Conflict(`insufficient funds: account ${key.id} holds ${balance} 毫, the transfer needs ${amount} 毫`)
          }
          return submit(makeBlock(key, { type: 'send', prev: head.hash, balance: balance - amount, time: Date.now(), to, amount, memo }))
        })
        const receiver = keyOf(to)
        if (receiver) await receiveAll(receiver).catch((err) => log.warn('receive failed', { account: to, error: (err as Error).message }))
        return sent
      },
      submit: (signed) => serial(decodeBlockAccount(signed), () => submit(signed)),
      history: (account, start, count) => store.history(account, start, count),
      chain: (account) => store.chain(account),
      cosigsOf: (hash) => store.cosigsOf(hash),
      keyOf,
      onFinal(listener) {
        listeners.add(listener)
        return () => listeners.delete(listener)
      },
      total() {
        return store.accounts().reduce((n, a) => n + (store.head(a)?.balance ?? 0n), 0n) + store.pendingAll().reduce((n, b) => n + b.amount!, 0n)
      },
    }
  }
}

function decodeBlockAccount(signed: SignedBlock): string {
  try {
    return decodeBlock(signed).account
  } catch (err) {
    throw new InvalidParams(`not a ledger block: ${(err as Error).message}`)
  }
}
