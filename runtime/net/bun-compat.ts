// Where Bun's Node compatibility differs in a way libp2p depends on, and the shim for it.
import http from 'node:http'
import net from 'node:net'

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
  quietAbortedConnect()
}

/**
 * A pending `net.connect({ signal })` whose signal aborts: Node destroys the socket quietly,
 * Bun emits an AbortError on it a tick later. @libp2p/tcp removes its 'error' listener as it
 * handles the abort itself, so under Bun the late AbortError is uncaught and kills the process —
 * whenever a node stops during a dial. The shim swallows that one AbortError only; any other
 * error still surfaces as before.
 */
function quietAbortedConnect(): void {
  const connect = net.connect
  const patched = function (this: unknown, ...args: unknown[]) {
    const socket = (connect as (...a: unknown[]) => net.Socket).apply(this, args)
    const signal = (args[0] as { signal?: unknown } | undefined)?.signal
    if (signal instanceof AbortSignal) {
      signal.addEventListener(
        'abort',
        () =>
          socket.on('error', (err: Error) => {
            if (err?.name !== 'AbortError' && socket.listenerCount('error') === 1) throw err
          }),
        { once: true },
      )
    }
    return socket
  } as typeof net.connect
  net.connect = patched
  net.createConnection = patched
}
