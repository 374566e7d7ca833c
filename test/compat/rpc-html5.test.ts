// @hprose/rpc-html5 3.0.10 (with @hprose/rpc-core) against a real node, run in a child Bun process.
import { afterAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { peerContract } from './contract.ts'
import { COMPAT_TZ, useNode } from './node.ts'
import type { Peer } from './peers.ts'
import type { PeerReply, PeerRequest } from './rpc-html5-peer.ts'

/**
 * The child process that holds the rpc-html5 clients (rpc-html5-peer.ts explains why), seen from
 * here as ordinary Peers: each method call is one JSON line out and one back.
 */
class ChildPeers {
  private proc: Bun.Subprocess<'pipe', 'pipe', 'pipe'> | undefined
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  private nextId = 1
  private stderr = ''

  private start(): Bun.Subprocess<'pipe', 'pipe', 'pipe'> {
    const proc = Bun.spawn([process.execPath, join(import.meta.dir, 'rpc-html5-peer.ts')], {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      // Same zone as the node, so dates written in local time mean the same instant (docs/hprose.md §6).
      env: { ...process.env, TZ: COMPAT_TZ },
    })
    void this.readLines(proc.stdout, (line) => {
      const reply = JSON.parse(line) as PeerReply
      const waiter = this.pending.get(reply.id)
      this.pending.delete(reply.id)
      if ('error' in reply) waiter?.reject(new Error(reply.error))
      else waiter?.resolve(reply.value)
    })
    void this.readLines(proc.stderr, (line) => void (this.stderr += line + '\n'))
    void proc.exited.then((code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`rpc-html5 peer process exited (${code}):\n${this.stderr}`))
      this.pending.clear()
    })
    return proc
  }

  private async readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
    const reader = stream.getReader()
    const decoder = new TextDecoder()
    let buffered = ''
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      buffered += decoder.decode(read.value, { stream: true })
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        onLine(buffered.slice(0, nl))
        buffered = buffered.slice(nl + 1)
      }
    }
  }

  private request(message: Omit<PeerRequest, 'id'>): Promise<any> {
    this.proc ??= this.start()
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.proc!.stdin.write(JSON.stringify({ id, ...message }) + '\n')
      this.proc!.stdin.flush()
    })
  }

  async open(url: string): Promise<Peer> {
    const peer: number = await this.request({ op: 'open', args: [url] })
    const method =
      (op: keyof Peer) =>
      (...args: unknown[]) =>
        this.request({ peer, op, args })
    return {
      echo: method('echo'),
      call: method('call'),
      functionList: method('functionList'),
      batch: method('batch'),
      byref: method('byref'),
      callWithHeaders: method('callWithHeaders'),
      echoMany: method('echoMany'),
      socketProtocol: method('socketProtocol'),
      close: method('close'),
    }
  }

  async stop(): Promise<void> {
    if (!this.proc) return
    this.proc.stdin.end()
    await this.proc.exited
  }
}

const node = useNode()
const children = new ChildPeers()
afterAll(() => children.stop())

for (const endpoint of ['http', 'ws3'] as const) {
  peerContract({ client: '@hprose/rpc-html5', endpoint, node, open: (url) => children.open(url) })
}

describe('@hprose/rpc-html5 WebSocket subprotocol', () => {
  test("the client's socket asks for `hprose` and the node echoes it", async () => {
    const peer = await children.open(node().endpoint('ws3'))
    try {
      expect(await peer.echo('int 9')).toBe(9)
      expect(await peer.socketProtocol()).toBe('hprose')
    } finally {
      await peer.close()
    }
  })
})
