// Fuzzing the RPC endpoint: random, mutated and grammar-made hostile calls, in-process and over HTTP and WebSocket.
//
// Every reply must parse whole with the project's codec; an `Internal: …` reply (a handler that
// crashed) or an ERROR line in the node's log fails the run, and so does a node that stops
// serving a real client meanwhile. Seeds are fixed and printed with each failure, so a failure
// replays; bench/fuzz-rpc.ts runs the same checks for a million requests.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writer, Tag } from '../../runtime/rpc/codec/index.ts'
import { bootTest, type TestKernel } from '../helpers/kernel.ts'
import { emptyPool, fillPool, grammarRequest, internalErrors, parseReply, prng, show, type ReplyPart } from './fuzz-grammar.ts'

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

/** The reply parsed whole, or a failure naming the request; `Internal` replies are failures too. */
function checked(what: string, input: Uint8Array, reply: Uint8Array): ReplyPart[] {
  let parts: ReplyPart[]
  try {
    parts = parseReply(reply)
  } catch (err) {
    throw new Error(`${what}: malformed reply (${(err as Error).message}) ${show(reply)} to ${show(input)}`)
  }
  const internal = internalErrors(parts)
  if (internal.length) throw new Error(`${what}: a handler crashed (${internal[0]}) on ${show(input, 600)}`)
  return parts
}

/** ERROR lines the node has logged since the last call (its daily files under <data>/logs). */
let errorsSeen = 0
function errorLines(kernel: TestKernel): string[] {
  const dir = join(kernel.dataDir, 'logs')
  const all = readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n')).filter((line) => / ERROR /.test(line))
  const fresh = all.slice(errorsSeen)
  errorsSeen = all.length
  return fresh
}

let node: TestKernel
beforeAll(async () => {
  // Small files: a fuzzed MFTruncate to gigabytes followed by MFTemp2MacFile would otherwise
  // spend the run hashing (correctly, in slices) instead of fuzzing.
  node = await bootTest({ maxFileBytes: 1 << 20 })
})
afterAll(() => node.stop())

describe('fuzz', () => {
  test('hostile shapes each get an InvalidRequest reply', async () => {
    for (const bytes of HOSTILE) {
      const parts = checked('hostile shape', bytes, await node.rpc.handle(bytes, { transport: 'local' }))
      expect(parts).toEqual([{ tag: 'E', value: expect.stringMatching(/^InvalidRequest: /) }])
    }
    expect(errorLines(node)).toEqual([])
  })

  test('100k random and mutated requests: every reply whole, no crash, memory bounded, real clients served', async () => {
    const seed = 0x1e17e5
    const rnd = prng(seed)
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
    const counts = { R: 0, E: 0, F: 0 }
    const TOTAL = 100_000
    for (let i = 0; i < TOTAL; i++) {
      const r = rnd()
      const input =
        r < 0.05 ? randomBytes(rnd) : r < 0.1 ? HOSTILE[Math.floor(rnd() * HOSTILE.length)] : mutate(CORPUS[Math.floor(rnd() * CORPUS.length)], rnd)
      const parts = checked(`mutated request #${i} (seed ${seed})`, input, await node.rpc.handle(input, { transport: 'local' }))
      for (const p of parts) counts[p.tag]++
      // Yield now and then so the real client's requests interleave with the fuzz load.
      if (i % 500 === 0) await Bun.sleep(0)
    }
    stop = true
    await realTraffic
    client.close()
    Bun.gc(true)
    const growthMb = (process.memoryUsage.rss() - rssBefore) / 1e6
    expect(counts.E).toBeGreaterThan(TOTAL / 2)
    expect(counts.R).toBeGreaterThan(100) // some mutations stay valid and are executed
    expect(served).toBeGreaterThan(10)
    expect(growthMb).toBeLessThan(150)
    expect(errorLines(node)).toEqual([])
  }, 180_000)

  test('grammar-made calls of every syscall with hostile arguments: no crash, and they reach the handlers', async () => {
    const seed = 0x5eed01
    const rnd = prng(seed)
    const pool = emptyPool()
    const TOTAL = 3000
    const codes = new Map<string, number>()
    const resolved = new Set<string>()
    for (let i = 0; i < TOTAL; i++) {
      // Calls log out, close handles and delete MiMei: fresh real values now and then.
      if (i % 500 === 0) await fillPool(node, pool)
      const { body, calls } = grammarRequest(rnd, pool)
      const parts = checked(`grammar request #${i} (seed ${seed})`, body, await node.rpc.handle(body, { transport: 'local' }))
      parts.forEach((p, k) => {
        if (p.tag === 'R') resolved.add(calls[k]!)
        else if (p.tag === 'E') {
          const code = String(p.value).split(':')[0]!
          codes.set(code, (codes.get(code) ?? 0) + 1)
        }
      })
    }
    // The inputs get past the parser and the session and type checks into the handlers: many
    // different syscalls succeed, and handlers answer with their own errors (not found, quota…).
    expect(pool.sids.length).toBe(2)
    expect(resolved.size).toBeGreaterThan(40)
    expect(codes.get('InvalidRequest') ?? 0).toBeLessThan(TOTAL / 5)
    expect(codes.get('NotFound') ?? 0).toBeGreaterThan(TOTAL / 20)
    expect(errorLines(node)).toEqual([])
  }, 180_000)

  test('over the wire: mutated and grammar-made requests by HTTP and WebSocket get whole replies', async () => {
    const seed = 42
    const rnd = prng(seed)
    const pool = emptyPool()
    await fillPool(node, pool)
    const request = (i: number) => (i % 2 ? grammarRequest(rnd, pool).body : mutate(CORPUS[i % CORPUS.length], rnd))
    for (let i = 0; i < 400; i++) {
      const body = request(i)
      const r = await fetch(`${node.url}/webapi/`, { method: 'POST', body: body as Uint8Array<ArrayBuffer> })
      expect(r.status).toBe(200)
      checked(`HTTP request #${i} (seed ${seed})`, body, new Uint8Array(await r.arrayBuffer()))
    }
    const ws = new WebSocket(node.url.replace('http', 'ws') + '/ws/')
    ws.binaryType = 'arraybuffer'
    await new Promise((resolve, reject) => {
      ws.onopen = resolve
      ws.onerror = reject
    })
    const COUNT = 400
    const sent = new Map<number, Uint8Array>()
    const replies = new Map<number, Uint8Array>()
    const { promise: all, resolve, reject } = Promise.withResolvers<void>()
    ws.onclose = (e) => reject(new Error(`the node closed the socket (${e.code} ${e.reason}) after ${replies.size} replies`))
    ws.onmessage = (e) => {
      const data = new Uint8Array(e.data as ArrayBuffer)
      replies.set(new DataView(data.buffer).getUint32(0), data.subarray(4))
      if (replies.size === COUNT) resolve()
    }
    for (let id = 1; id <= COUNT; id++) {
      const body = request(id)
      sent.set(id, body)
      const frame = new Uint8Array(4 + body.length)
      new DataView(frame.buffer).setUint32(0, id)
      frame.set(body, 4)
      ws.send(frame)
    }
    await all
    ws.onclose = null
    ws.close()
    for (const [id, reply] of replies) checked(`WebSocket request #${id} (seed ${seed})`, sent.get(id)!, reply)
    expect(errorLines(node)).toEqual([])
  }, 180_000)
})
