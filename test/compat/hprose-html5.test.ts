// hprose-html5 2.0.36 (browser client) against a real node, over HTTP /webapi/ and WebSocket /ws/.
import { afterAll } from 'bun:test'
import { createRequire } from 'node:module'
import { installXhr } from '../helpers/xhr.ts'
import { peerContract } from './contract.ts'
import { useNode } from './node.ts'
import { hprose2Peer } from './peers.ts'

// A browser bundle that also exports through module.exports; it captures XMLHttpRequest when it
// loads, so the shim goes in first. WebSocket is Bun's global.
const restoreXhr = installXhr()
const hprose = createRequire(import.meta.url)('hprose-html5')
afterAll(restoreXhr)
const node = useNode()

for (const endpoint of ['http', 'ws'] as const) {
  peerContract({ client: 'hprose-html5', endpoint, node, open: (url) => hprose2Peer('hprose-html5', hprose, url) })
}
