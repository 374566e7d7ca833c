// The official hprose 2.x Node server (anchor for bench/rpc.ts): Echo and GetVar over HTTP and WebSocket on free ports.
//
// Run under Node: `node bench/anchors/hprose2-server.cjs`. Prints one line when both listen:
//   ready http://127.0.0.1:PORT1/ ws://127.0.0.1:PORT2/
// and exits on SIGTERM/SIGINT, or when stdin closes (so it never outlives the bench).
'use strict'
const http = require('node:http')
const hprose = require('hprose')

const HOST = '127.0.0.1'

function addFunctions(service) {
  // Same shapes as the node's syscalls: Echo(value) → value; GetVar(sid, name) → a string.
  service.addFunction(function Echo(value) { return value }, 'Echo')
  service.addFunction(function GetVar(_sid, name) { return name === 'ver' ? '2.0.51' : null }, 'GetVar')
}

// HTTP: HttpService on a plain node:http server (what hprose.Server.create('http://…') builds, with a free port).
const httpService = new hprose.HttpService()
addFunctions(httpService)
const httpServer = http.createServer(httpService.handle)
// Node closes idle keep-alive connections after 5 s; the bench pauses that long between runs.
httpServer.keepAliveTimeout = 60_000

// WebSocket: the official WebSocketServer (ws package, perMessageDeflate off), also on a free port.
const wsServer = new hprose.WebSocketServer({ host: HOST, port: 0 })
addFunctions(wsServer)

function listening(server) {
  return new Promise((resolve, reject) => {
    if (server.listening) return resolve()
    server.once('listening', resolve)
    server.once('error', reject)
  })
}

httpServer.listen(0, HOST)
wsServer.start()
wsServer.httpserver.keepAliveTimeout = 60_000

Promise.all([listening(httpServer), listening(wsServer.httpserver)]).then(
  () => {
    process.stdout.write(`ready http://${HOST}:${httpServer.address().port}/ ws://${HOST}:${wsServer.httpserver.address().port}/\n`)
  },
  (err) => {
    process.stderr.write(`listen failed: ${err && err.message}\n`)
    process.exit(1)
  },
)

function stop() {
  httpServer.close()
  try { wsServer.stop() } catch {}
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.on('error', stop)
process.stdin.resume()
