// Fuzzing the RPC endpoint: 100k random and mutated requests, each answered, node still serving.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Writer, Tag } from '../../runtime/rpc/codec/index.ts'
import { bootTest, type TestKernel } from '../helpers/kernel.ts'

/** Small seeded PRNG (mulberry32) so a failure can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const te = new TextEncoder()
const call = (name: string, args: unknown[], byref = false) => {
  const w = new Writer().writeTag(Tag.Call).write(name).reset().write(args)
  if (byref) w.writeTag(Tag.True)
  return w.writeTag(Tag.End).toBytes().slice()
}

const CORPUS: Uint8Array[] = [
  call('Echo', ['hello']),
  call('Echo', [{ a: [1, 2.5, 'x', null, true], b: new Uint8Array([1, 2, 3]), c: new Date(0) }]),
  call('Echo', [[1n << 70n, -5, 1e300, NaN, Infinity, 'é😀']], true),
  call('GetVar', ['', 'ver']),
  call('WhoAmI', ['']),
  call('Login', ['{"Version":1}']),
  te.encode('Cs4"Echo"a1{s5"hello"}Cs6"GetVar"a2{es3"ver"}z'),
  te.encode('Hm1{s4"user"s3"tom"}Cs6"WhoAmI"a1{e}z'),
  te.encode('Cu~z'),
  te.encode('z'),
  te.encode('Cs4"Echo"a1{c1"P"2{s1"as1"b}o0{12}}z'),
  te.encode('Cs4"Echo"a1{a2{r1;r0;}}z'),
]

/** Hostile shapes a codec must refuse cleanly rather than allocate or recurse on. */
const HOSTILE: Uint8Array[] = [
  te.encode('Cs4"Echo"a1{s999999999"abc"}z'),
  te.encode('Cs4"Echo"a1{b2147483647"abc"}z'),
  te.encode('Cs4"Echo"a999999999{1}z'),
  te.encode('Cs4"Echo"a1{r999999999;}z'),
  te.encode('Cs4"Echo"' + 'a1{'.repeat(100_000) + '}z'),
  te.encode('Cs4"Echo"' + 'm1{'.repeat(50_000) + '}z'),
  te.encode('Cs4"Echo"a1{s3"ab'),
  new Uint8Array([...te.encode('Cs4"Echo"a1{s2"'), 0xc3, 0x28, 0x22, 0x7d, 0x7a]),
  new Uint8Array([...te.encode('Cs4"Echo"a1{s1"'), 0xed, 0xa0, 0x80, 0x22, 0x7d, 0x7a]),
  te.encode('C'.repeat(10_000)),
  te.encode('Cs4"Echo"z'.repeat(1000)),
  te.encode('Cs4"Echo"a1{D99999999T999999.999999999Z}z'),
  te.encode('Cs4"Echo"a1{c999999999"x"1{}}z'),
  te.encode('Hs3"abcCs4"Echo"z'),
]

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  const bytes = Array.from(src)
  const pick = () => Math.floor(rnd() * (bytes.length + 1))
  const steps = 1 + Math.floor(rnd() * 4)
  const TAGS = te.encode('0123456789ilNdItfneusbDTgamcorEHCRAFz{};"+-.Z')
  for (let i = 0; i < steps; i++) {
    const kind = Math.floor(rnd() * 7)
    if (kind === 0) bytes.length = pick() // truncate
    else if (kind === 1 && bytes.length) bytes[Math.min(pick(), bytes.length - 1)] ^= 1 << Math.floor(rnd() * 8) // flip a bit
    else if (kind === 2) bytes.splice(pick(), 0, TAGS[Math.floor(rnd() * TAGS.length)]) // insert a tag byte
    else if (kind === 3) bytes.splice(pick(), 0, ...te.encode(String(Math.floor(rnd() * 2 ** 31)))) // insert a big number
    else if (kind === 4) bytes.splice(pick(), 1 + Math.floor(rnd() * 8)) // delete a run
    else if (kind === 5) bytes.splice(pick(), 0, Math.floor(rnd() * 256)) // insert a random byte
    else {
      const a = pick()
      bytes.splice(pick(), 0, ...bytes.slice(a, a + 1 + Math.floor(rnd() * 16))) // duplicate a run
    }
  }
  return new Uint8Array(bytes)
}

function randomBytes(rnd: () => number): Uint8Array {
  const out = new Uint8Array(Math.floor(rnd() * 64))
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(rnd() * 256)
  return out
}

/** A reply is well-formed: starts with R, E or F (after an optional H map) and ends with z. */
function wellFormed(reply: Uint8Array): boolean {
  const first = String.fromCharCode(reply[0])
  return ['R', 'E', 'F', 'H'].includes(first) && reply[reply.length - 1] === 0x7a
}

let node: TestKernel
beforeAll(async () => {
  node = await bootTest()
})
afterAll(() => node.stop())

describe('fuzz', () => {
  test('hostile shapes each get a prompt E reply', async () => {
    for (const bytes of HOSTILE) {
      const started = performance.now()
      const reply = await node.rpc.handle(bytes, { transport: 'local' })
      expect(wellFormed(reply)).toBe(true)
      expect(String.fromCharCode(reply[0])).toBe('E')
      expect(performance.now() - started).toBeLessThan(2000)
    }
  })

  test('100k random and mutated requests: every one answered, memory bounded, real clients served', async () => {
    const rnd = prng(0x1e17e5)
    const hprose = require('hprose')
    const client = hprose.Client.create(node.url.replace('http', 'ws') + '/ws/', ['Echo'])
    let served = 0
    let stop = false
    // A real client keeps calling while the fuzzer runs; every answer must be right.
    const realTraffic = (async () => {
      while (!stop) {
        const v = { n: served, s: 'still serving' }
        expect(await client.Echo(v)).toEqual(v)
        served++
      }
    })()

    Bun.gc(true)
    const rssBefore = process.memoryUsage.rss()
    const counts = { R: 0, E: 0, F: 0, H: 0 } as Record<string, number>
    const TOTAL = 100_000
    for (let i = 0; i < TOTAL; i++) {
      const r = rnd()
      const input =
        r < 0.05 ? randomBytes(rnd) : r < 0.1 ? HOSTILE[Math.floor(rnd() * HOSTILE.length)] : mutate(CORPUS[Math.floor(rnd() * CORPUS.length)], rnd)
      const reply = await node.rpc.handle(input, { transport: 'local' })
      if (!wellFormed(reply)) throw new Error(`malformed reply for request #${i}: ${JSON.stringify(new TextDecoder().decode(input).slice(0, 200))}`)
      counts[String.fromCharCode(reply[0])]++
      // Yield now and then so the real client's requests interleave with the fuzz load.
      if (i % 500 === 0) await Bun.sleep(0)
    }
    stop = true
    await realTraffic
    client.close()
    Bun.gc(true)
    const growthMb = (process.memoryUsage.rss() - rssBefore) / 1e6
    expect(counts.R + counts.E + counts.F + counts.H).toBe(TOTAL)
    expect(counts.E).toBeGreaterThan(TOTAL / 2)
    expect(counts.R).toBeGreaterThan(100) // some mutations stay valid and are executed
    expect(served).toBeGreaterThan(10)
    expect(growthMb).toBeLessThan(150)
  }, 120_000)

  test('over the wire too: mutated requests by HTTP and WebSocket get replies', async () => {
    const rnd = prng(42)
    for (let i = 0; i < 300; i++) {
      const body = mutate(CORPUS[i % CORPUS.length], rnd)
      const r = await fetch(`${node.url}/webapi/`, { method: "POST", body: body as Uint8Array<ArrayBuffer> })
      expect(r.status).toBe(200)
      expect(wellFormed(new Uint8Array(await r.arrayBuffer()))).toBe(true)
    }
    const ws = new WebSocket(node.url.replace('http', 'ws') + '/ws/')
    ws.binaryType = 'arraybuffer'
    await new Promise((resolve, reject) => {
      ws.onopen = resolve
      ws.onerror = reject
    })
    const replies = new Map<number, Uint8Array>()
    const { promise: all, resolve } = Promise.withResolvers<void>()
    ws.onmessage = (e) => {
      const data = new Uint8Array(e.data as ArrayBuffer)
      replies.set(new DataView(data.buffer).getUint32(0), data.subarray(4))
      if (replies.size === 300) resolve()
    }
    for (let id = 1; id <= 300; id++) {
      const body = mutate(CORPUS[id % CORPUS.length], rnd)
      const frame = new Uint8Array(4 + body.length)
      new DataView(frame.buffer).setUint32(0, id)
      frame.set(body, 4)
      ws.send(frame)
    }
    await all
    ws.close()
    for (const reply of replies.values()) expect(wellFormed(reply)).toBe(true)
  })
})

