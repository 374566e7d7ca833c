// Ledger blocks: their fields, CBOR bytes, hash and signature, and the check of an account's chain
// from its blocks alone (verifyChain, a pure function).
import { sha256 } from '@noble/hashes/sha2.js'
import { COIN_PREFIX, keyId, prefixed, type KeyPair } from '../identity/index.ts'
import { decodeCbor, encodeCbor } from '../net/wire.ts'
import { edSign as sign, edVerify as verify } from './sig.ts'

export type BlockType = 'open' | 'send' | 'receive'

/** What a block says; `body` (its CBOR) is what is hashed and signed. Amounts in 毫 (1/1000 Nuo). */
export interface BlockFields {
  readonly v: 1
  readonly type: BlockType
  /** The account: the key id of the key that signs this chain. */
  readonly account: string
  /** Hash of the previous block of this account; empty for open. */
  readonly prev: Uint8Array
  /** The balance after this block. */
  readonly balance: bigint
  /** Milliseconds since the epoch, as the signer saw it (informative only). */
  readonly time: number
  /** open: the account's Ed25519 public key (its key id is the account). */
  readonly key?: Uint8Array
  /** send: the receiving account. */
  readonly to?: string
  /** send and receive: the amount moved. */
  readonly amount?: bigint
  /** send: a note for the receiver (at most MEMO_MAX characters). */
  readonly memo?: string
  /** receive: the hash of the send it collects. */
  readonly source?: Uint8Array
}

/** A block as stored and sent: its bytes and its signature. */
export interface SignedBlock {
  readonly body: Uint8Array
  readonly sig: Uint8Array
}

export interface Block extends BlockFields {
  readonly hash: Uint8Array
  readonly body: Uint8Array
  readonly sig: Uint8Array
}

export const MEMO_MAX = 256
/** Largest block body accepted anywhere (a memo and a key fit well within). */
export const BLOCK_MAX_BYTES = 1024

export class BlockError extends Error {}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])

/** Builds and signs a block with the account's key. */
export function makeBlock(key: KeyPair, fields: Omit<BlockFields, 'v' | 'account'>): Block {
  const all: Record<string, unknown> = { v: 1, type: fields.type, account: key.id, prev: fields.prev, balance: fields.balance, time: fields.time }
  for (const k of ['key', 'to', 'amount', 'memo', 'source'] as const) if (fields[k] !== undefined) all[k] = fields[k]
  const body = encodeCbor(all)
  const sig = sign(key, prefixed(COIN_PREFIX, body))
  madeHere.set(sig, body)
  return decodeBlock({ body, sig })
}

/**
 * Signatures this process made, with the body each signs: checking them again is skipped (a block
 * from anywhere else arrives in arrays of its own, so it never matches).
 */
const madeHere = new WeakMap<Uint8Array, Uint8Array>()
const signedHere = (b: Block) => madeHere.get(b.sig) === b.body

const isBytes = (v: unknown, n?: number): v is Uint8Array => v instanceof Uint8Array && (n === undefined || v.length === n)
const isAmount = (v: unknown): v is bigint => typeof v === 'bigint' && v >= 0n

/** Decodes a block's body and checks its shape (not its signature nor its place in a chain). */
export function decodeBlock(signed: SignedBlock): Block {
  if (!isBytes(signed.body) || signed.body.length > BLOCK_MAX_BYTES) throw new BlockError(`a block body is bytes of at most ${BLOCK_MAX_BYTES}`)
  if (!isBytes(signed.sig, 64)) throw new BlockError('a block signature is 64 bytes')
  let f: Record<string, unknown>
  try {
    f = decodeCbor(signed.body) as Record<string, unknown>
  } catch {
    throw new BlockError('a block body is not CBOR')
  }
  if (typeof f !== 'object' || f === null || f.v !== 1) throw new BlockError('unknown block version')
  if (f.type !== 'open' && f.type !== 'send' && f.type !== 'receive') throw new BlockError(`unknown block type ${String(f.type)}`)
  if (typeof f.account !== 'string' || !/^[A-Za-z0-9_-]{27}$/.test(f.account)) throw new BlockError('account is not a key id')
  if (!isBytes(f.prev) || (f.type === 'open' ? f.prev.length !== 0 : f.prev.length !== 32)) throw new BlockError('prev is a 32-byte hash (empty for open)')
  if (typeof f.balance === 'number' && Number.isSafeInteger(f.balance)) f.balance = BigInt(f.balance)
  if (!isAmount(f.balance)) throw new BlockError('balance is an integer >= 0')
  if (!Number.isSafeInteger(f.time)) throw new BlockError('time is an integer')
  if (typeof f.amount === 'number' && Number.isSafeInteger(f.amount)) f.amount = BigInt(f.amount)
  if (f.type === 'open' && !isBytes(f.key, 32)) throw new BlockError('an open block carries the 32-byte public key')
  if (f.type === 'send') {
    if (typeof f.to !== 'string' || !/^[A-Za-z0-9_-]{27}$/.test(f.to)) throw new BlockError('a send names the receiving account')
    if (!isAmount(f.amount) || f.amount === 0n) throw new BlockError('a send moves an amount > 0')
    if (f.memo !== undefined && (typeof f.memo !== 'string' || f.memo.length > MEMO_MAX)) throw new BlockError(`a memo is text of at most ${MEMO_MAX} characters`)
  }
  if (f.type === 'receive' && (!isBytes(f.source, 32) || !isAmount(f.amount))) throw new BlockError('a receive names its send (32-byte hash) and amount')
  const fields = f as unknown as BlockFields
  return { ...fields, prev: new Uint8Array(fields.prev), hash: sha256(signed.body), body: signed.body, sig: signed.sig }
}

/** What a chain is checked against: the network's genesis, and the sends other chains hold. */
export interface ChainContext {
  readonly genesis: string
  readonly supply: bigint
  /** The final send block with this hash, from any account; undefined when unknown. */
  readonly sendOf: (hash: Uint8Array) => Block | undefined
}

/**
 * Checks one block against the block before it (undefined for the first) and the public key of
 * the chain (from its open block). Throws BlockError naming what is wrong.
 */
export function checkNext(prev: Block | undefined, b: Block, key: Uint8Array | undefined, ctx: ChainContext, received: { has(source: string): boolean }): void {
  if (!prev) {
    if (b.type !== 'open') throw new BlockError('a chain starts with an open block')
    if (keyId(b.key!) !== b.account) throw new BlockError('the open block key does not match the account')
    const opening = b.account === ctx.genesis ? ctx.supply : 0n
    if (b.balance !== opening) throw new BlockError(`an open block has balance ${opening}`)
    key = b.key
  } else {
    if (b.type === 'open') throw new BlockError('only the first block opens a chain')
    if (b.account !== prev.account) throw new BlockError('a block of another account')
    if (!sameBytes(b.prev, prev.hash)) throw new BlockError('wrong predecessor')
  }
  if (!signedHere(b) && !verify(key!, prefixed(COIN_PREFIX, b.body), b.sig)) throw new BlockError('bad signature')
  if (b.type === 'send') {
    if (b.to === b.account) throw new BlockError('a send to the same account')
    if (prev!.balance < b.amount!) throw new BlockError('insufficient funds: the balance would go below zero')
    if (b.balance !== prev!.balance - b.amount!) throw new BlockError('wrong balance after send')
  }
  if (b.type === 'receive') {
    const send = ctx.sendOf(b.source!)
    if (!send || send.type !== 'send' || send.to !== b.account) throw new BlockError('a receive without a matching send')
    if (send.amount !== b.amount) throw new BlockError('a receive of another amount than its send')
    if (received.has(hex(b.source!))) throw new BlockError('the same send received twice')
    if (b.balance !== prev!.balance + b.amount!) throw new BlockError('wrong balance after receive')
    if (b.balance > ctx.supply) throw new BlockError('a balance above the supply')
  }
}

/** Verifies a whole chain from its blocks alone; returns the head. Throws BlockError on the first fault. */
export function verifyChain(blocks: readonly SignedBlock[], ctx: ChainContext): Block | undefined {
  let prev: Block | undefined
  let key: Uint8Array | undefined
  const received = new Set<string>()
  for (const s of blocks) {
    const b = decodeBlock(s)
    checkNext(prev, b, key, ctx, received)
    if (b.type === 'open') key = b.key
    if (b.type === 'receive') received.add(hex(b.source!))
    prev = b
  }
  return prev
}
