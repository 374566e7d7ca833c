// Child process of rpc-html5.test.ts: runs @hprose/rpc-html5 peers and serves their methods as JSON lines.
//
// @hprose/rpc-html5 cannot share a process with @hprose/rpc-node: both register an `http`
// transport on rpc-core's Client, which defines it as a non-configurable property (docs/hprose.md §5),
// and `bun test` runs every test file in one process. Protocol, one JSON object per line:
//   stdin  {id, op: 'open', args: [url]}              → {id, value: peerId}
//   stdin  {id, peer, op: <Peer method>, args: [...]} → {id, value} or {id, error}
// The process ends when stdin closes.
import { createRequire } from 'node:module'
import { installXhr } from '../helpers/xhr.ts'
import { type Peer, hprose3Peer } from './peers.ts'

export interface PeerRequest {
  id: number
  peer?: number
  op: string
  args: unknown[]
}
export type PeerReply = { id: number; value: unknown } | { id: number; error: string }

// The shim must exist before the transports load; WebSocket is Bun's global.
installXhr()
const require = createRequire(import.meta.url)
const core = require('@hprose/rpc-core')
require('@hprose/rpc-html5')
const io = require('@hprose/io')

const peers = new Map<number, Peer>()
let nextPeer = 1

async function run(request: PeerRequest): Promise<unknown> {
  if (request.op === 'open') {
    const id = nextPeer++
    peers.set(id, hprose3Peer(core, io, String(request.args[0])))
    return id
  }
  const peer = peers.get(request.peer ?? 0)
  if (!peer) throw new Error(`no peer ${request.peer}`)
  const method = (peer as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[request.op]
  if (typeof method !== 'function') throw new Error(`no peer method ${request.op}`)
  const value = await method(...request.args)
  if (request.op === 'close') peers.delete(request.peer!)
  return value ?? null
}

const reply = (message: PeerReply) => process.stdout.write(JSON.stringify(message) + '\n')

for await (const line of console) {
  if (!line.trim()) continue
  const request = JSON.parse(line) as PeerRequest
  run(request).then(
    (value) => reply({ id: request.id, value }),
    (err) => reply({ id: request.id, error: err instanceof Error ? err.message : String(err) }),
  )
}
// stdin closed: close what the parent left open, so no socket keeps this process alive.
await Promise.all([...peers.values()].map((peer) => peer.close()))
process.exit(0)
