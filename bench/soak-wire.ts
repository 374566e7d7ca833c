// What the soak's processes share: an Hprose WebSocket client with per-call deadlines, the node process, memory and quantiles.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Reader, Tag, Writer } from '../runtime/rpc/codec/index.ts'
import { tempDir, track, withTimeout } from './support.ts'

export const ROOT = join(import.meta.dir, '..')
export const MiB = 1024 * 1024

/** The node answered with an `E` reply: `message` is its wire text (`Code: …`). */
export class NodeError extends Error {}

/** `<4-byte BE id><Hprose call>`: the framing of /ws/. */
export function frame(id: number, name: string, args: unknown[]): Uint8Array {
  const bytes = new Writer().writeRaw(new Uint8Array(4)).writeTag(Tag.Call).writeString(name).reset().write(args).writeTag(Tag.End).toBytes()
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(0, id)
  return bytes
}

interface Pending {
  resolve: (v: unknown) => void
  reject: (e: Error) => void
  timer: Timer
}

/** One WebSocket to the node's /ws/; every call settles: a reply, an error reply, the socket's close or its deadline. */
export class WsClient {
  private nextId = 1
  private pending = new Map<number, Pending>()
  closeEvent: CloseEvent | undefined
  readonly closed: Promise<CloseEvent>
  private constructor(readonly ws: WebSocket) {
    ws.onmessage = (ev) => {
      const data = new Uint8Array(ev.data as ArrayBuffer)
      const id = new DataView(data.buffer, data.byteOffset).getUint32(0)
      const p = this.pending.get(id)
      if (!p) return
      this.pending.delete(id)
      clearTimeout(p.timer)
      try {
        const r = new Reader(data.subarray(4))
        const tag = r.readTag()
        if (tag === Tag.Error) p.reject(new NodeError(r.readString()))
        else if (tag === Tag.Result) p.resolve(r.readValue())
        else p.reject(new Error(`reply starts with tag ${tag}`))
      } catch (err) {
        p.reject(new Error(`undecodable reply: ${(err as Error).message}`))
      }
    }
    this.closed = new Promise((resolve) =>
      ws.addEventListener('close', (e) => {
        this.closeEvent = e
        for (const p of this.pending.values()) {
          clearTimeout(p.timer)
          p.reject(new Error(`socket closed ${e.code} "${e.reason}"`))
        }
        this.pending.clear()
        resolve(e)
      }),
    )
  }

  /** Opens /ws/ (with extra request headers, e.g. a forged Origin); rejects when the node refuses the upgrade. */
  static async open(url: string, headers?: Record<string, string>, timeoutMs = 10_000): Promise<WsClient> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/`, headers ? ({ headers } as unknown as string[]) : undefined)
    ws.binaryType = 'arraybuffer'
    const opened = new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve()
      ws.onerror = () => reject(new Error('WebSocket upgrade refused or failed'))
      ws.onclose = (e) => reject(new Error(`WebSocket closed before opening: ${e.code}`))
    })
    try {
      await withTimeout(opened, timeoutMs, 'WebSocket open')
    } catch (err) {
      ws.close()
      throw err
    }
    ws.onerror = null
    ws.onclose = null
    return new WsClient(ws)
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN
  }

  call(name: string, args: unknown[], timeoutMs = 30_000): Promise<unknown> {
    if (!this.open) return Promise.reject(new Error(`socket not open (${this.closeEvent?.code ?? 'closing'})`))
    const id = this.nextId++
    const p = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`no reply to ${name} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, { resolve, reject, timer })
    })
    this.ws.send(frame(id, name, args))
    return p
  }

  close(): void {
    this.ws.close()
  }
}

// ---- the node ----
export interface NodeProc {
  proc: Bun.Subprocess
  url: string
  dataDir: string
}

/** `bun runtime/main.ts run --offline` (from `root`) on 127.0.0.1, port 0, its own data dir; resolves at its ready line. */
export async function startNode(config: Record<string, unknown> = {}, root = ROOT): Promise<NodeProc> {
  const dataDir = tempDir('leither-bench-soak-')
  if (Object.keys(config).length) await Bun.write(join(dataDir, 'leither.json'), JSON.stringify(config))
  const cmd = [process.execPath, join(root, 'runtime/main.ts'), 'run', '--data', dataDir, '--port', '0', '--host', '127.0.0.1', '--offline', '--log-level', 'error']
  const proc = track(Bun.spawn(cmd, { cwd: root, stdin: 'ignore', stdout: 'pipe', stderr: 'inherit' }))
  const reader = proc.stdout.getReader()
  let text = ''
  const decoder = new TextDecoder()
  while (!/^ready /m.test(text) || !text.includes('\n')) {
    const r = await withTimeout(reader.read(), 30_000, 'the node\u2019s ready line')
    if (r.done) throw new Error(`the node exited before its ready line: ${text}`)
    text += decoder.decode(r.value, { stream: true })
  }
  const url = /^ready (http:\/\/\S+)$/m.exec(text)?.[1]
  if (!url) throw new Error(`unexpected first line: ${text}`)
  // Keep draining stdout so the node never blocks on a full pipe.
  void (async () => {
    while (!(await reader.read().catch(() => ({ done: true }))).done) {}
  })()
  return { proc, url, dataDir }
}

export async function stopNode(node: NodeProc): Promise<void> {
  node.proc.kill('SIGTERM')
  await withTimeout(node.proc.exited, 8000, 'node exit').catch(() => node.proc.kill('SIGKILL'))
}

/** A field of /proc/PID/status in bytes (VmRSS, VmHWM), 0 once the process is gone. */
export function procStatus(pid: number, field: string): number {
  try {
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024
  } catch {
    return 0
  }
}

/** CPU time (user + system, all threads) a process has used, in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
}

// ---- statistics ----
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

/** Latencies as a Float32Array in base64: how a worker hands its samples to the bench. */
export const packSamples = (xs: Float32Array) => Buffer.from(xs.buffer, xs.byteOffset, xs.byteLength).toString('base64')
export function unpackSamples(text: string): Float32Array {
  const b = Buffer.from(text, 'base64')
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))
}

/** Growing Float32Array of samples (no per-call allocation). */
export class Samples {
  buf = new Float32Array(1 << 14)
  n = 0
  push(v: number): void {
    if (this.n === this.buf.length) {
      const grown = new Float32Array(this.buf.length * 2)
      grown.set(this.buf)
      this.buf = grown
    }
    this.buf[this.n++] = v
  }
  done(): Float32Array {
    return this.buf.subarray(0, this.n)
  }
}

/** Line-based control between the bench and its child processes: one JSON object a line. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buf = ''
  const reader = stream.getReader()
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    buf += decoder.decode(r.value, { stream: true })
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      yield buf.slice(0, i)
      buf = buf.slice(i + 1)
    }
  }
  if (buf) yield buf
}
