// The soak's attacker, its own process: the attacks of issue 8 defects 1, 4 and 6 in loops against the node the honest clients use.
// Spawned by bench/soak.ts with its settings as JSON in argv[2]; stdout: {"ready"} after setup, then {"result"}; stdin: {"go"}.
import { generateKeyPair, keyId, signPassport } from '../runtime/identity/index.ts'
import { frame, MiB, WsClient, lines } from './soak-wire.ts'

export interface AttackSettings {
  url: string
  nodeId: string
  ownerSid: string
  /** A public database with numbered versions of about 16 MiB each (defect 4a). */
  bigMid: string
  bigVersions: number[]
  /** The public database honest clients read. */
  publicMid: string
  /** Size of the temp file committed and of the cur file summed (defect 1). */
  fileBytes: number
  /** Sockets each filled to exactly its own limit and held there, at once (defect 4b, several sockets). */
  fillSockets: number
  /** The node's largest request body (config maxBodyBytes): a socket holds at most four. */
  maxBodyBytes: number
  /** Transactions the attacker fills to their cap, each on its own handle, kept open (defect 4c). */
  txHandles: number
  /** Foreign-Origin/Host requests per second (defect 6). */
  foreignRate: number
  /** Only the attacks whose names start with one of these (all when empty). */
  only: string[]
}

/** Per attack: what it did and what the node answered (answer text → count). */
export type AttackResult = Record<string, { done: number; answers: Record<string, number>; note?: string }>

const S: AttackSettings = JSON.parse(process.argv[2]!)
/** One JSON line on stdout, resolved once written (a large result must not be cut off by the exit that follows). */
const send = (o: unknown) => new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify(o)}\n`, () => resolve()))
const O_RDWR_CREATE = 2 | 0x40
const result: AttackResult = {}
function answer(attack: string, text: string): void {
  const r = (result[attack] ??= { done: 0, answers: {} })
  r.done++
  const key = text.slice(0, 140)
  r.answers[key] = (r.answers[key] ?? 0) + 1
}
const errText = (err: unknown) => (err as Error).message.replace(/\s+/g, ' ')

// ---- setup: a user the owner admitted (the worst case: strangers cannot store at all) ----
const c = await WsClient.open(S.url)
const key = generateKeyPair()
await c.call('UserAdmit', [S.ownerSid, keyId(key.publicKey)])
const { sid } = (await c.call('Login', [signPassport(key, { audience: S.nodeId, data: { CertFor: 'Self' }, ttl: 3600 })])) as { sid: string }
const filesMid = (await c.call('MMCreate', [sid, 'soak', 'attack', 'files', 1, 0])) as string
const filesH = (await c.call('MMOpen', [sid, filesMid, 'cur'])) as string
const bigFile = (await c.call('MFOpenByPath', [sid, filesH, 'big.bin', O_RDWR_CREATE])) as string
await c.call('MFTruncate', [bigFile, S.fileBytes])
const txMid = (await c.call('MMCreate', [sid, 'soak', 'attack', 'tx', 2, 0])) as string

// ---- the attacks ----
type Loop = (deadline: number) => Promise<void>
const ms = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`
let stamp = 1
const LOOPS: Record<string, Loop> = {
  /** Defect 1: a temp file the largest size set, one byte made unique, committed (hashed and stored). */
  async '1 commit'(deadline) {
    const times: string[] = []
    while (performance.now() < deadline) {
      try {
        const fsid = (await c.call('MFOpenTempFile', [sid])) as string
        await c.call('MFTruncate', [fsid, S.fileBytes])
        await c.call('MFSetData', [fsid, new Uint8Array([stamp++ & 255, stamp & 255, stamp >> 8]), 0])
        const t0 = performance.now()
        await c.call('MFTemp2MacFile', [fsid], 300_000)
        times.push(ms(t0))
        await c.call('MFClose', [fsid])
        answer('1 commit', 'committed')
      } catch (err) {
        answer('1 commit', errText(err))
        await Bun.sleep(500)
      }
    }
    result['1 commit']!.note = `commit times ${times.join(', ')}`
  },
  /** Defect 1: the cur file changed by one byte, then MMSum of cur (hashes it again). */
  async '1 sum'(deadline) {
    const times: string[] = []
    while (performance.now() < deadline) {
      try {
        await c.call('MFSetData', [bigFile, new Uint8Array([stamp++ & 255]), Math.floor(Math.random() * (S.fileBytes - 1))])
        const t0 = performance.now()
        await c.call('MMSum', [sid, filesMid, 'cur'], 300_000)
        times.push(ms(t0))
        answer('1 sum', 'summed')
      } catch (err) {
        answer('1 sum', errText(err))
        await Bun.sleep(500)
      }
    }
    result['1 sum']!.note = `MMSum times ${times.join(', ')}`
  },
  /** Defect 4a: a guest opens the big versions 30 at a time and holds every handle it gets. */
  async '4a guest MMOpen'(deadline) {
    const guest = await WsClient.open(S.url)
    let v = 0
    while (performance.now() < deadline) {
      const calls = Array.from({ length: 30 }, () => guest.call('MMOpen', ['', S.bigMid, S.bigVersions[v++ % S.bigVersions.length]!]))
      for (const s of await Promise.allSettled(calls)) answer('4a guest MMOpen', s.status === 'fulfilled' ? 'handle' : errText(s.reason))
      await Bun.sleep(200)
    }
  },
  /** Defect 4b: one socket sends 256 PullMsg(60), then 8 MiB frames as fast as it drains, until the node closes it; again. */
  async '4b flood'(deadline) {
    const big = new Uint8Array(8 * MiB + 4)
    while (performance.now() < deadline) {
      let f: WsClient
      try {
        f = await WsClient.open(S.url)
      } catch (err) {
        answer('4b flood', `open: ${errText(err)}`)
        await Bun.sleep(500)
        continue
      }
      for (let i = 0; i < 256; i++) f.call('PullMsg', [sid, 60], 120_000).catch(() => {})
      let sent = 0
      for (; sent < 60 && f.open; sent++) {
        new DataView(big.buffer).setUint32(0, 100_000 + sent)
        f.ws.send(big)
        while (f.ws.bufferedAmount > 16 * MiB && f.open) await Bun.sleep(1)
      }
      const closed = await Promise.race([f.closed, Bun.sleep(5000).then(() => undefined)])
      answer('4b flood', closed ? `closed ${closed.code} "${closed.reason}"` : `still open after ${sent} frames`)
      f.close()
      await Bun.sleep(250)
    }
  },
  /** Defect 4b, several sockets: each takes its 256 running slots with PullMsg(60) and then exactly its limit in waiting frames; refilled once closed. */
  async '4b fill'(deadline) {
    const pullBytes = frame(1, 'PullMsg', [sid, 60]).length
    const one = async () => {
      while (performance.now() < deadline) {
        let f: WsClient
        try {
          f = await WsClient.open(S.url)
        } catch (err) {
          answer('4b fill', `open: ${errText(err)}`)
          await Bun.sleep(500)
          continue
        }
        for (let i = 0; i < 256; i++) f.call('PullMsg', [sid, 60], 120_000).catch(() => {})
        for (let left = 4 * S.maxBodyBytes - 256 * pullBytes; left > 0 && f.open; left -= S.maxBodyBytes + 4) {
          f.ws.send(new Uint8Array(Math.min(left, S.maxBodyBytes + 4)))
          while (f.ws.bufferedAmount > 16 * MiB && f.open) await Bun.sleep(1)
        }
        const closed = await Promise.race([f.closed, Bun.sleep(Math.max(0, deadline - performance.now())).then(() => undefined)])
        answer('4b fill', closed ? `closed ${closed.code} "${closed.reason}"` : 'held to the end of the window')
        f.close()
        await Bun.sleep(250)
      }
    }
    await Promise.all(Array.from({ length: S.fillSockets }, one))
  },
  /** Defect 4c: Begin on a fresh handle, 1 MiB Set calls until refused; the transaction is left open. */
  async '4c tx'(deadline) {
    const value = new Uint8Array(MiB).map((_, i) => i * 13)
    for (let round = 0; round < S.txHandles && performance.now() < deadline; round++) {
      try {
        const h = (await c.call('MMOpen', [sid, txMid, 'cur'])) as string
        await c.call('Begin', [h, 3600])
        let queued = 0
        for (; performance.now() < deadline; queued++) {
          try {
            await c.call('Set', [h, `k${queued}`, value])
          } catch (err) {
            answer('4c tx', `after ${queued ? 'some' : 'none'} queued: ${errText(err)}`)
            if (!queued) await Bun.sleep(200)
            break
          }
        }
      } catch (err) {
        answer('4c tx', errText(err))
        await Bun.sleep(200)
      }
    }
  },
  /** Not an attack: a new guest every 2 s opens cur of the public database the honest guests read (they share one handle pool). */
  async 'probe: new guest MMOpen'(deadline) {
    while (performance.now() < deadline) {
      try {
        const g = await WsClient.open(S.url)
        try {
          await g.call('MMClose', [(await g.call('MMOpen', ['', S.publicMid, 'cur'])) as string])
          answer('probe: new guest MMOpen', 'opened')
        } catch (err) {
          answer('probe: new guest MMOpen', errText(err))
        }
        g.close()
      } catch (err) {
        answer('probe: new guest MMOpen', `open: ${errText(err)}`)
      }
      await Bun.sleep(2000)
    }
  },
  /** Defect 6: a page on another site (Origin) and a rebound name (Host), over HTTP and the WebSocket upgrade. */
  async '6 foreign'(deadline) {
    const port = new URL(S.url).port
    const echo = 'Cs4"Echo"a1{s2"hi"}z'
    const kinds = [
      () => fetch(`${S.url}/webapi/`, { method: 'POST', body: echo, headers: { origin: 'http://evil.example' } }),
      () => fetch(`${S.url}/webapi/`, { method: 'POST', body: echo, headers: { host: `evil.example:${port}` } }),
      () => fetch(`${S.url}/getvar?name=ver`, { headers: { host: `rebound.example:${port}` } }),
      () => WsClient.open(S.url, { origin: 'http://evil.example' }, 5000),
      () => WsClient.open(S.url, { host: `evil.example:${port}` }, 5000),
    ]
    const names = ['POST /webapi/ Origin', 'POST /webapi/ Host', 'GET /getvar Host', 'WS upgrade Origin', 'WS upgrade Host']
    for (let i = 0; performance.now() < deadline; i++) {
      const k = i % kinds.length
      try {
        const r = await kinds[k]!()
        if (r instanceof Response) {
          await r.arrayBuffer()
          answer('6 foreign', `${names[k]}: ${r.status === 403 ? 'refused 403' : `SERVED ${r.status}`}`)
        } else {
          r.close()
          answer('6 foreign', `${names[k]}: SERVED (socket opened)`)
        }
      } catch (err) {
        answer('6 foreign', `${names[k]}: refused (${errText(err).slice(0, 40)})`)
      }
      await Bun.sleep(1000 / S.foreignRate)
    }
  },
}

await send({ ready: true })
for await (const line of lines(Bun.stdin.stream())) {
  const msg = JSON.parse(line) as { go?: number }
  if (!msg.go) continue
  const deadline = performance.now() + msg.go
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const chosen = Object.entries(LOOPS).filter(([name]) => !S.only.length || S.only.some((o) => name.startsWith(o)))
  await Promise.all(
    chosen.map(([name, loop]) =>
      loop(deadline).catch((err) => {
        answer(name, `attack loop stopped: ${errText(err)}`)
      }),
    ),
  )
  const cpu = process.cpuUsage(cpu0)
  await send({ result, cpuShare: (cpu.user + cpu.system) / 1000 / (performance.now() - t0) })
  break
}
process.exit(0)
