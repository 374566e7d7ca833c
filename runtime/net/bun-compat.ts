// Where Bun's Node compatibility differs in a way libp2p depends on, and the shim for it.
import http from 'node:http'

let applied = false

/**
 * Node's `http.Server#close()` on a server that never listened still emits 'close'; Bun's only
 * calls the callback. @libp2p/websockets keeps such a server (it feeds it sockets by hand) and
 * waits for its 'close' when stopping, so under Bun the node could never stop. The shim emits
 * the event as Node does. Applied once, explicitly, when the network starts.
 */
export function applyBunCompat(): void {
  if (applied || typeof Bun === 'undefined') return
  applied = true
  const close = http.Server.prototype.close
  http.Server.prototype.close = function (this: http.Server, cb?: (err?: Error) => void) {
    if (this.listening) return close.call(this, cb)
    queueMicrotask(() => {
      this.emit('close')
      cb?.(Object.assign(new Error('Server is not running.'), { code: 'ERR_SERVER_NOT_RUNNING' }))
    })
    return this
  } as typeof close
}
