// The ceiling anchor for bench/rpc.ts: a bare Bun.serve that answers every call with the fixed Echo("hello") reply, no Hprose work.
//
// Run: `bun bench/anchors/bare-bun-server.ts`. Prints `ready http://127.0.0.1:PORT` when listening.
// POST (any path) → `Rs5"hello"z`; WebSocket (any path) → `<same 4-byte id>Rs5"hello"z`. It reads
// the request body but does not parse it: what is left is the cost of Bun's HTTP/WebSocket
// server and of the round trip, the most any Bun server could reach with the same load generator.
const REPLY = new TextEncoder().encode('Rs5"hello"z')
const HEADERS = { 'content-type': 'text/plain; charset=utf-8', 'access-control-allow-origin': '*' }

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(request, srv) {
    if (request.headers.get('upgrade')?.toLowerCase() === 'websocket' && srv.upgrade(request, { data: undefined })) return undefined
    await request.arrayBuffer()
    return new Response(REPLY, { headers: HEADERS })
  },
  websocket: {
    perMessageDeflate: false,
    message(ws, message) {
      if (typeof message === 'string' || message.length < 4) return void ws.close(1003, 'binary only')
      const framed = new Uint8Array(4 + REPLY.length)
      framed.set(message.subarray(0, 4))
      framed.set(REPLY, 4)
      ws.send(framed)
    },
  },
})

process.stdout.write(`ready http://127.0.0.1:${server.port}\n`)
const shutdown = () => {
  server.stop(true)
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
// Exit with the bench: stdin is its pipe.
process.stdin.on('end', shutdown)
process.stdin.resume()
