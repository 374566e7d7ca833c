// @hprose/rpc-node 3.0.12 (with @hprose/rpc-core) against a real node: HTTP /webapi/, WebSocket /ws3/ and /ws/.
import { describe, expect, test } from 'bun:test'
import { createRequire } from 'node:module'
import { peerContract } from './contract.ts'
import { frameLoggingProxy } from './frames.ts'
import { useNode } from './node.ts'
import { hprose3Peer } from './peers.ts'

// CommonJS. Loading @hprose/rpc-node registers its transports on rpc-core's Client; this process
// must never load @hprose/rpc-html5 (see rpc-html5.test.ts). Its WebSocket transport requires
// `ws`, which Bun serves from its built-in shim.
const require = createRequire(import.meta.url)
const core = require('@hprose/rpc-core')
require('@hprose/rpc-node')
const io = require('@hprose/io')
const node = useNode()

for (const endpoint of ['http', 'ws3', 'ws'] as const) {
  peerContract({ client: '@hprose/rpc-node', endpoint, node, open: (url) => hprose3Peer(core, io, url) })
}

describe('@hprose/rpc-node WebSocket framing', () => {
  test('each request goes out fragmented (id frame with fin=0, then a continuation) and is answered', async () => {
    const { hostname, port } = new URL(node().url)
    const proxy = await frameLoggingProxy({ hostname, port: Number(port) })
    const client = new core.Client(`ws://127.0.0.1:${proxy.port}/ws3/`)
    client.timeout = 10_000
    try {
      expect(await client.invoke('Echo', ['fragmented'])).toBe('fragmented')
      expect(await client.invoke('Echo', [[1, 2, 3]])).toEqual([1, 2, 3])
      const request = (body: string) => [
        { fin: false, opcode: 2, length: 4 },
        { fin: true, opcode: 0, length: body.length },
      ]
      // As captured from the official pair (docs/hprose.md §4.3).
      expect(proxy.clientFrames.slice(0, 4)).toEqual([...request('Cs4"Echo"a1{s10"fragmented"}z'), ...request('Cs4"Echo"a1{a3{123}}z')])
    } finally {
      await client.abort()
      proxy.close()
    }
  })
})
