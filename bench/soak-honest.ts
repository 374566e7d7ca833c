// The soak's honest load, one worker process of many: N WebSocket clients (logged-in users and guests) calling a mix of syscalls with think time.
// Spawned by bench/soak.ts with its settings as JSON in argv[2]; stdout: {"ready"} after setup, then {"result"}; stdin: {"go"}.
import { generateKeyPair, keyId, signPassport } from '../runtime/identity/index.ts'
import { NodeError, packSamples, quantile, Samples, WsClient, lines } from './soak-wire.ts'

export interface HonestSettings {
  url: string
  nodeId: string
  /** The owner's session: admits this worker's users (storage is for admitted users only). */
  ownerSid: string
  /** A public database (everyone reads): keys k0…k{keys-1}, hash h with fields f0…f{fields-1}. */
  publicMid: string
  keys: number
  fields: number
  clients: number
  /** How many of the clients log in (the others are guests). */
  users: number
  /** Mean pause between one client's calls (uniform 0…2× mean). */
  thinkMs: number
  worker: number
}

export interface HonestResult {
  clients: number
  calls: number
  errors: number
  /** Error text → count. */
  errorTexts: Record<string, number>
  ops: Record<string, number>
  samples: string
  setupMs: number
  cpuMs: number
  wallMs: number
  /** This process's own timer lag (a 50 ms interval), p99 and max, ms. */
  lagP99: number
  lagMax: number
  lostClients: number
}

const S: HonestSettings = JSON.parse(process.argv[2]!)
/** One JSON line on stdout, resolved once written (a large result must not be cut off by the exit that follows). */
const send = (o: unknown) => new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify(o)}\n`, () => resolve()))
const publicValue = (i: number) => `public value ${i} `.repeat(6)
const fieldValue = (i: number) => `field ${i}`

interface Honest {
  c: WsClient
  user: boolean
  pub: string
  own?: string
  /** The value this user last stored under `mine`, to check the read that follows. */
  last?: string
}

// ---- setup: connect, admit and log in users, open the handles they use ----
const setupStart = performance.now()
const clients: Honest[] = []
const SETUP_AT_ONCE = 25
async function setupOne(i: number): Promise<Honest> {
  const c = await WsClient.open(S.url)
  if (i >= S.users) return { c, user: false, pub: (await c.call('MMOpen', ['', S.publicMid, 'cur'])) as string }
  const key = generateKeyPair()
  await c.call('UserAdmit', [S.ownerSid, keyId(key.publicKey)])
  const { sid } = (await c.call('Login', [signPassport(key, { audience: S.nodeId, data: { CertFor: 'Self' }, ttl: 3600 })])) as { sid: string }
  const mid = (await c.call('MMCreate', [sid, 'soak', 'own', 'w', 2, 0])) as string
  const own = (await c.call('MMOpen', [sid, mid, 'cur'])) as string
  const pub = (await c.call('MMOpen', [sid, S.publicMid, 'cur'])) as string
  return { c, user: true, pub, own }
}
for (let i = 0; i < S.clients; i += SETUP_AT_ONCE) {
  clients.push(...(await Promise.all(Array.from({ length: Math.min(SETUP_AT_ONCE, S.clients - i) }, (_, j) => setupOne(i + j)))))
}
const setupMs = performance.now() - setupStart

// ---- the mix ----
type Op = (h: Honest, n: number) => Promise<void>
const expect = (what: string, got: unknown, want: unknown) => {
  if (got !== want) throw new Error(`${what}: got ${JSON.stringify(got)?.slice(0, 80)}, want ${JSON.stringify(want)?.slice(0, 80)}`)
}
const OPS: Record<string, Op> = {
  GetVar: async (h) => expect('GetVar ver', typeof (await h.c.call('GetVar', ['', 'ver'])), 'string'),
  Echo: async (h, n) => expect('Echo', await h.c.call('Echo', [`echo ${n}`]), `echo ${n}`),
  Get: async (h, n) => expect('Get public', await h.c.call('Get', [h.pub, `k${n % S.keys}`]), publicValue(n % S.keys)),
  Hget: async (h, n) => expect('Hget public', await h.c.call('Hget', [h.pub, 'h', `f${n % S.fields}`]), fieldValue(n % S.fields)),
  Set: async (h, n) => {
    const v = `mine ${S.worker}/${n}`
    await h.c.call('Set', [h.own, 'mine', v])
    h.last = v
  },
  GetOwn: async (h) => expect('Get own', await h.c.call('Get', [h.own, 'mine']), h.last ?? null),
}
/** Cumulative weights: users read and write their own database; guests only read. */
const USER_MIX: [string, number][] = [['GetVar', 15], ['Echo', 15], ['Get', 20], ['Hget', 15], ['Set', 20], ['GetOwn', 15]]
const GUEST_MIX: [string, number][] = [['GetVar', 25], ['Echo', 20], ['Get', 30], ['Hget', 25]]
function pick(mix: [string, number][]): string {
  let r = Math.random() * 100
  for (const [name, w] of mix) if ((r -= w) < 0) return name
  return mix[0]![0]
}

// ---- run ----
const samples = new Samples()
const errorTexts: Record<string, number> = {}
const ops: Record<string, number> = {}
let errors = 0
let lostClients = 0
const fail = (text: string) => {
  errors++
  errorTexts[text] = (errorTexts[text] ?? 0) + 1
}

async function runClient(h: Honest, deadline: number): Promise<void> {
  let n = Math.floor(Math.random() * 1e6)
  // Start spread over one think time, so the clients do not call in lockstep.
  await Bun.sleep(Math.random() * S.thinkMs)
  while (performance.now() < deadline) {
    if (!h.c.open) {
      lostClients++
      fail(`socket closed: ${h.c.closeEvent?.code ?? '?'} "${h.c.closeEvent?.reason ?? ''}"`)
      return
    }
    const name = pick(h.user ? USER_MIX : GUEST_MIX)
    const t0 = performance.now()
    try {
      await OPS[name]!(h, n++)
      samples.push(performance.now() - t0)
      ops[name] = (ops[name] ?? 0) + 1
    } catch (err) {
      fail(`${name}: ${err instanceof NodeError ? '' : '(client) '}${(err as Error).message.slice(0, 200)}`)
    }
    await Bun.sleep(Math.random() * 2 * S.thinkMs)
  }
}

await send({ ready: true, setupMs })
for await (const line of lines(Bun.stdin.stream())) {
  const msg = JSON.parse(line) as { go?: number }
  if (!msg.go) continue
  const lag = new Samples()
  let tick = performance.now()
  const meter = setInterval(() => {
    const now = performance.now()
    lag.push(Math.max(0, now - tick - 50))
    tick = now
  }, 50)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await Promise.all(clients.map((h) => runClient(h, t0 + msg.go!)))
  const wallMs = performance.now() - t0
  clearInterval(meter)
  const cpu = process.cpuUsage(cpu0)
  const lags = lag.done().slice().sort()
  const result: HonestResult = {
    clients: clients.length,
    calls: samples.n,
    errors,
    errorTexts,
    ops,
    samples: packSamples(samples.done()),
    setupMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs,
    lagP99: quantile(lags, 0.99),
    lagMax: lags.length ? lags[lags.length - 1]! : NaN,
    lostClients,
  }
  for (const h of clients) h.c.close()
  await send({ result })
  break
}
process.exit(0)
