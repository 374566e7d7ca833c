// /leither/block/2.0.0 frames against a hostile server: every malformed, oversized, surplus or
// wrong answer is a clear WireError for the fetcher, and both nodes keep serving (a good fetch
// works right after). Plus the good path: a block that arrives in several pieces.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { lpStream } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { cidOf } from '../../runtime/mimei/blocks.ts'
import { BLOCK_PROTOCOL, fetchBlocks } from '../../runtime/net/blockproto.ts'
import { encodeCbor, WireError } from '../../runtime/net/wire.ts'
import { bootNetwork, type TestNetwork } from '../helpers/network.ts'

let net: TestNetwork
beforeAll(async () => {
  net = await bootNetwork(2, { topology: 'chain' })
})
afterAll(() => net.stop())

const block = crypto.getRandomValues(new Uint8Array(200_000))
const cid = cidOf(block)
const other = cidOf(new Uint8Array([1, 2, 3]))

/** Makes the author answer every block request with `frames` (written as they are, length-prefixed unless raw). */
async function answerWith(frames: (Uint8Array | Uint8ArrayList)[], raw?: Uint8Array) {
  const lib = net.nodes[0].net!.libp2p
  await lib.unhandle(BLOCK_PROTOCOL.id)
  await lib.handle(BLOCK_PROTOCOL.id, async (stream) => {
    const lp = lpStream(stream)
    await lp.read()
    if (raw) stream.send(raw)
    for (const f of frames) await lp.write(f)
    await stream.close().catch(() => {})
  })
}

async function fetchAll(cids: string[]) {
  const got: { cid: string; size: number; parts: number }[] = []
  for await (const b of fetchBlocks(net.nodes[1].net!.libp2p, net.nodes[0].net!.libp2p.peerId, cids)) got.push({ cid: b.cid, size: b.size, parts: b.parts.length })
  return got
}

const frame = (tag: number, ...parts: Uint8Array[]) => new Uint8ArrayList(Uint8Array.of(tag), ...parts)

test('a block sent in several pieces is checked and handed on in its pieces; "missing" is skipped', async () => {
  await answerWith([frame(1), frame(0, block.subarray(0, 70_000), block.subarray(70_000))])
  const got = await fetchAll([other, cid])
  expect(got.map((g) => [g.cid, g.size])).toEqual([[cid, block.length]])
  // 200 kB cross the connection in Noise frames of at most 64 KiB: they are not joined on arrival.
  expect(got[0].parts).toBeGreaterThan(1)
})

test('hostile frames: unknown tag, bytes that hash to another CID, more answers than asked, a "missing" with bytes, an empty frame', async () => {
  const cases: [(Uint8Array | Uint8ArrayList)[], RegExp][] = [
    [[Uint8Array.of(7, 1, 2, 3)], /starts with byte 7, which is no frame/],
    [[frame(0, block.subarray(1))], /do not hash to/],
    [[frame(0, block), frame(0, block)], /more blocks than the 1 asked for/],
    [[frame(1, Uint8Array.of(9))], /"missing" block frame carries bytes/],
    [[new Uint8Array(0)], /empty block frame/],
  ]
  for (const [frames, why] of cases) {
    await answerWith(frames)
    const err = await fetchAll([cid]).then(() => undefined, (e: Error) => e)
    expect(err).toBeInstanceOf(WireError)
    expect(err!.message).toMatch(why)
  }
})

test('a frame longer than the protocol allows is refused before it is read', async () => {
  // A length prefix of maxBytes + 1 (varint), then nothing more: the fetcher must refuse at the prefix.
  let n = BLOCK_PROTOCOL.maxBytes + 1
  const varint: number[] = []
  while (n >= 0x80) varint.push((n & 0x7f) | 0x80), (n = Math.floor(n / 128))
  varint.push(n)
  await answerWith([], Uint8Array.from(varint))
  const err = await fetchAll([cid]).then(() => undefined, (e: Error) => e)
  expect(err?.message).toMatch(/too long/)
})

test("the server's refusal arrives as an error; both nodes keep serving afterwards", async () => {
  await answerWith([encodeCbor({ error: 'not today' })])
  await expect(fetchAll([cid])).rejects.toThrow(/not today/)
  await answerWith([frame(0, block)])
  expect((await fetchAll([cid])).map((g) => g.cid)).toEqual([cid])
  // The reader's own server still answers the author (a CID it does not share: missing).
  const back: string[] = []
  for await (const b of fetchBlocks(net.nodes[0].net!.libp2p, net.nodes[1].net!.libp2p.peerId, [cid])) back.push(b.cid)
  expect(back).toEqual([])
})

test('blocks of the largest size the protocol allows (4 MiB) arrive whole, one right after the other', async () => {
  const big = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 7) & 0xff)
  const bigCid = cidOf(big)
  await answerWith([frame(0, big), frame(0, big)])
  const got = await fetchAll([bigCid, bigCid])
  expect(got.map((g) => g.size)).toEqual([big.length, big.length])
})
