// The coin family: balances, transfers, history and minting of Nuo (amounts in 毫, 1/1000 Nuo).
import { InvalidParams, PermissionDenied, Timeout } from '../runtime/errors.ts'
import { isKeyId, type KeyPair } from '../runtime/identity/index.ts'
import type { Block } from '../runtime/ledger/index.ts'
import { hex } from '../runtime/ledger/index.ts'
import { trafficOf } from '../runtime/ledger/traffic.ts'
import { syscall, type CallContext } from './row.ts'

const HISTORY_MAX = 1000

function accountArg(call: string, v: unknown, what = 'account'): string {
  if (!isKeyId(v)) throw new InvalidParams(`${call}: ${what} must be an account id (27 base64url characters)`)
  return v
}

function amountArg(call: string, v: unknown): bigint {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new InvalidParams(`${call}: amount must be an integer of 毫 (1/1000 Nuo) > 0`)
  return BigInt(v)
}

/** The caller's key, which signs their blocks: it must be on this node. */
function callerKey(ctx: CallContext, call: string): KeyPair {
  const key = ctx.grant.userId ? ctx.sys.ledger.keyOf(ctx.grant.userId) : undefined
  if (!key) {
    throw new PermissionDenied(`${call}: the key of account ${ctx.grant.userId || '(guest)'} is not on this node; blocks are signed by the account's key (keys/users/<id>.key in the data dir)`)
  }
  return key
}

/** A block as callers see it. */
export function blockView(b: Block) {
  return {
    hash: hex(b.hash),
    type: b.type,
    account: b.account,
    balance: b.balance,
    time: b.time,
    ...(b.type === 'send' ? { to: b.to, amount: b.amount, memo: b.memo ?? '' } : {}),
    ...(b.type === 'receive' ? { amount: b.amount, source: hex(b.source!) } : {}),
  }
}

const BLOCK = '{hash, type: open|send|receive, account, balance, time, to?, amount?, memo?, source?} (amounts in 毫, BigInt)'
const BLOCK_TYPE =
  "{ hash: string; type: 'open' | 'send' | 'receive'; account: string; balance: bigint; time: number; to?: string; amount?: bigint; memo?: string; source?: string }"

export const COIN_SYSCALLS = [
  syscall<[string | undefined]>({
    name: 'CoinBalance',
    sid: true,
    params: [{ name: 'account', type: 'string', optional: true, doc: "the account (a user or node id); absent: the caller's" }],
    returns: '{account, balance, pending, height}: balance and pending (sent to it, final, not yet received) in 毫 as BigInt',
    returnsType: '{ account: string; balance: bigint; pending: bigint; height: number }',
    capability: 'session',
    app: 'basic',
    errors: ['InvalidParams', 'PermissionDenied'],
    doc: 'The balance of an account on this node\'s ledger, in 毫 (1/1000 Nuo).',
    handler: (ctx, account) => ctx.sys.ledger.info(account === undefined ? ctx.grant.userId : accountArg('CoinBalance', account)),
  }),
  syscall<[string, number, string | undefined]>({
    name: 'CoinTransfer',
    sid: true,
    params: [
      { name: 'to', type: 'string', doc: 'the receiving account (a user or node id)' },
      { name: 'amount', type: 'int', doc: 'how much, in 毫 (1/1000 Nuo)' },
      { name: 'memo', type: 'string', optional: true, doc: 'a note for the receiver (at most 256 characters)' },
    ],
    returns: `the send block once final: ${BLOCK}`,
    returnsType: BLOCK_TYPE,
    capability: 'session',
    app: 'coin.transfer',
    errors: ['InvalidParams', 'PermissionDenied', 'Conflict', 'Timeout'],
    doc:
      "Pays from the caller's account; returns when a quorum of the notaries (two thirds, rounded up) co-signed the send. " +
      'Fails with Conflict for insufficient funds or a conflicting block of the same account (a double spend), Timeout when no quorum answers (that block is tried again before the account\'s next one). ' +
      "The caller's key must be on this node. From an app's session the amount comes off what the user lets the app spend (AppGrant's limit for coin.transfer); " +
      'over it the call fails with PermissionDenied and nothing is sent.',
    async handler(ctx, to, amount, memo) {
      const key = callerKey(ctx, 'CoinTransfer')
      const receiver = accountArg('CoinTransfer', to, 'to')
      const milli = amountArg('CoinTransfer', amount)
      const app = ctx.grant.app
      // An app's session spends from what the user lets that app spend; a transfer refused for sure gives it back.
      if (app) ctx.sys.permissions.appGrants.spend(ctx.grant.userId, app, Number(milli))
      try {
        return blockView(await ctx.sys.ledger.transfer(key, receiver, milli, memo ?? ''))
      } catch (err) {
        if (app && !(err instanceof Timeout)) {
          try {
            ctx.sys.permissions.appGrants.spend(ctx.grant.userId, app, -Number(milli))
          } catch {} // the grant was taken back meanwhile: nothing to give back to
        }
        throw err
      }
    },
  }),
  syscall<[string | undefined, number | undefined, number | undefined]>({
    name: 'CoinHistory',
    sid: true,
    params: [
      { name: 'account', type: 'string', optional: true, doc: "the account; absent: the caller's" },
      { name: 'start', type: 'int', optional: true, doc: 'blocks to skip, newest first (default 0)' },
      { name: 'count', type: 'int', optional: true, doc: `blocks to return (default 100, at most ${HISTORY_MAX})` },
    ],
    returns: `list of ${BLOCK}, newest first`,
    returnsType: `${BLOCK_TYPE}[]`,
    capability: 'session',
    app: 'basic',
    errors: ['InvalidParams'],
    doc: "An account's chain of blocks, newest first.",
    handler(ctx, account, start, count) {
      const s = start ?? 0
      const n = count ?? 100
      if (s < 0 || n < 0 || n > HISTORY_MAX) throw new InvalidParams(`CoinHistory: start >= 0 and count 0..${HISTORY_MAX}`)
      const a = account === undefined ? ctx.grant.userId : accountArg('CoinHistory', account)
      return ctx.sys.ledger.history(a, s, n).map(blockView)
    },
  }),
  syscall<[string, number]>({
    name: 'CoinMint',
    sid: true,
    params: [
      { name: 'to', type: 'string', doc: 'the receiving account' },
      { name: 'amount', type: 'int', doc: 'how much, in 毫' },
    ],
    returns: `the send block once final: ${BLOCK}`,
    returnsType: BLOCK_TYPE,
    capability: 'session',
    app: 'never',
    errors: ['InvalidParams', 'PermissionDenied', 'Conflict', 'Timeout'],
    doc:
      'Issues coins from the supply the genesis account holds (config coinGenesis and coinSupply): only the genesis account may call it, ' +
      'with its key on this node. The total supply never changes.',
    async handler(ctx, to, amount) {
      if (ctx.grant.userId !== ctx.sys.ledger.genesis) {
        throw new PermissionDenied(`CoinMint: only the genesis account (${ctx.sys.ledger.genesis}) may mint; log in with its key`)
      }
      const key = callerKey(ctx, 'CoinMint')
      return blockView(await ctx.sys.ledger.transfer(key, accountArg('CoinMint', to, 'to'), amountArg('CoinMint', amount), 'mint'))
    },
  }),
  syscall<[string | undefined]>({
    name: 'CoinTraffic',
    sid: true,
    params: [{ name: 'peer', type: 'string', optional: true, doc: 'one peer node id; absent: every peer this node has a meter for' }],
    returns: 'list of {peer, served, relayed, received, receivedRelayed (bytes), debt, credited, paid, balance, allowance (毫, BigInt), state: ok|asked|cut off, refused}',
    returnsType:
      "{ peer: string; served: number; relayed: number; received: number; receivedRelayed: number; debt: bigint; credited: bigint; paid: bigint; balance: bigint; allowance: bigint; state: 'ok' | 'asked' | 'cut off'; refused: string }[]",
    capability: 'node.admin',
    errors: ['InvalidParams', 'PermissionDenied'],
    doc:
      "This node's traffic meters per peer node: bytes served to it (relayed: as a circuit relay) and received from it (receivedRelayed: forwarded by it as a relay); its debt past the free allowance, " +
      'what it paid this node (credited) and this node paid it, its account balance, the allowance left, and its state: ok, asked (past trafficPayThreshold: asked to settle), ' +
      'cut off (past 1.25 times it: not served until it pays); always ok while this node shares no ledger with its peers (coinNotaries empty: no one could pay). Prices and thresholds: the traffic* keys of leither.json.',
    handler(ctx, peer) {
      const t = trafficOf(ctx.sys.ledger)
      if (!t) return []
      return peer === undefined ? t.rows() : [t.row(accountArg('CoinTraffic', peer, 'peer'))]
    },
  }),
]
