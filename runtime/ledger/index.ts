// The coin ledger subsystem: accounts' chains in SQLite, transfers made final by the notaries'
// co-signatures (this node alone in a one-node network), and receives signed for local keys.
import type { Database } from 'bun:sqlite'
import { Conflict, InvalidParams, Timeout } from '../errors.ts'
import { loadUserKey, type KeyPair } from '../identity/index.ts'
import type { Identity } from '../identity/index.ts'
import type { BaseComponents, Subsystem } from '../kernel.ts'
import { BlockError, decodeBlock, makeBlock, MEMO_MAX, type Block, type ChainContext, type SignedBlock } from './block.ts'
import { cosign, quorumOf, type Cosig } from './notary.ts'
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
  /** The key of an account when this node holds it (a user key in the data dir, or the node key). */
  keyOf(account: string): KeyPair | undefined
  /** Sum of every chain's balance and every pending send: equals the supply when all is well. */
  total(): bigint
}

export interface LedgerComponents extends BaseComponents {
  readonly identity: Identity
  readonly db: () => Database
}

export function ledger() {
  return (c: LedgerComponents): Ledger => {
    const log = c.log.child('ledger')
    const store: LedgerStore = ledgerStore(c.db)
    // The owner is known once identity has started (a first run creates it): settled in start().
    let genesis = c.config.coinGenesis || c.config.owner
    const supply = BigInt(c.config.coinSupply)
    const ctx = { genesis, supply, sendOf: (h: Uint8Array) => store.byHash(h) } satisfies ChainContext
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

    const keyOf = (account: string): KeyPair | undefined =>
      account === c.identity.nodeId ? c.identity.nodeKey : loadUserKey(c.dataDir, account, (m) => log.warn(m))

    async function submit(signed: SignedBlock): Promise<Block> {
      let b: Block
      try {
        b = decodeBlock(signed)
      } catch (err) {
        throw new InvalidParams(`not a ledger block: ${(err as Error).message}`)
      }
      const cosigs: Cosig[] = []
      const all = notaries()
      if (all.includes(c.identity.nodeId)) {
        try {
          cosigs.push(cosign(c.identity.nodeKey, store, ctx, b))
        } catch (err) {
          if (err instanceof BlockError) throw new Conflict(`block refused: ${err.message}`)
          throw err
        }
      }
      // Other notaries are asked over /leither/coin/1.0.0 (not yet: a network of several notaries waits here).
      if (cosigs.length < quorumOf(all.length)) {
        throw new Timeout(`no quorum: ${cosigs.length} of ${all.length} notaries co-signed, ${quorumOf(all.length)} needed (coinNotaries in leither.json)`)
      }
      if (!store.byHash(b.hash)) store.append(b, cosigs)
      return b
    }

    const open = (key: KeyPair) =>
      submit(makeBlock(key, { type: 'open', prev: new Uint8Array(), balance: key.id === genesis ? supply : 0n, time: Date.now(), key: key.publicKey }))

    /** Receives every final send waiting for an account whose key is here. */
    const receiveAll = (key: KeyPair) =>
      serial(key.id, async () => {
        if (!store.head(key.id)) await open(key)
        for (const send of store.pending(key.id)) {
          const head = store.head(key.id)!
          await submit(makeBlock(key, { type: 'receive', prev: head.hash, balance: head.balance + send.amount!, time: Date.now(), amount: send.amount, source: send.hash }))
        }
      })

    return {
      name: 'ledger',
      get genesis() {
        return genesis
      },
      supply,
      get notaries() {
        return notaries()
      },
      async start() {
        genesis = ctx.genesis = c.config.coinGenesis || c.config.owner
        const key = keyOf(genesis)
        if (key && !store.head(genesis)) {
          await serial(genesis, () => open(key))
          log.info('opened the genesis account', { account: genesis, supply: String(supply) })
        }
      },
      stop() {},
      info(account) {
        const head = store.head(account)
        const pending = store.pending(account).reduce((n, b) => n + b.amount!, 0n)
        return { account, balance: head?.balance ?? 0n, pending, height: store.height(account) }
      },
      async transfer(key, to, amount, memo = '') {
        if (amount <= 0n) throw new InvalidParams('the amount is an integer of 毫 > 0')
        if (to === key.id) throw new InvalidParams('a transfer to the same account')
        if (memo.length > MEMO_MAX) throw new InvalidParams(`a memo is at most ${MEMO_MAX} characters`)
        if (store.pending(key.id).length) await receiveAll(key)
        const sent = await serial(key.id, async () => {
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
      keyOf,
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
