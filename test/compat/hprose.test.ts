// hprose 2.0.51 (the Node client) against a real node, over HTTP /webapi/ and WebSocket /ws/.
import { createRequire } from 'node:module'
import { peerContract } from './contract.ts'
import { useNode } from './node.ts'
import { hprose2Peer } from './peers.ts'

// CommonJS; its WebSocket client requires `ws`, which Bun serves from its built-in shim (docs/hprose.md §5).
const hprose = createRequire(import.meta.url)('hprose')
const node = useNode()

for (const endpoint of ['http', 'ws'] as const) {
  peerContract({ client: 'hprose', endpoint, node, open: (url) => hprose2Peer('hprose', hprose, url) })
}
