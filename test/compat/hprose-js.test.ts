// hprose-js 2.0.33 (browser client, text mode) against a real node, over HTTP /webapi/ and WebSocket /ws/.
import { afterAll } from 'bun:test'
import { createRequire } from 'node:module'
import { installXhr } from '../helpers/xhr.ts'
import { peerContract } from './contract.ts'
import { useNode } from './node.ts'
import { hprose2Peer } from './peers.ts'

// A browser bundle that also exports through module.exports. It reads responseText via
// onreadystatechange; its options are methods (client.timeout(ms)), so peers set them through
// create()'s settings.
const restoreXhr = installXhr()
const hprose = createRequire(import.meta.url)('hprose-js')
afterAll(restoreXhr)
const node = useNode()

for (const endpoint of ['http', 'ws'] as const) {
  peerContract({ client: 'hprose-js', endpoint, node, open: (url) => hprose2Peer('hprose-js', hprose, url) })
}
