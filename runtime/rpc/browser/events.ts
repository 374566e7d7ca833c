// Events of the browser client: listeners by name, and the PullMsg long poll that feeds 'message',
// 'pubsub' and 'dropped' while anyone listens to them (it keeps going across reconnects).

type Listener = (value: any) => void

/** Events fed by PullMsg, by the `kind` of the item. */
const PUSHED: Record<string, string> = { msg: 'message', pub: 'pubsub', dropped: 'dropped' }
const PUSHED_EVENTS = new Set(Object.values(PUSHED))
/** Items that arrive while nobody listens to their event wait for the next listener, up to this many. */
const HELD_MAX = 1000
/** Wait after a failed pull: doubling from 500 ms up to 30 s. */
const RETRY_FIRST_MS = 500
const RETRY_MAX_MS = 30_000

export class ClientEvents {
  private readonly listeners = new Map<string, Set<Listener>>()
  /** Pulled items nobody listened to yet (PullMsg marked the messages read: they are not dropped). */
  private held: { type: string; value: unknown }[] = []
  private running = false
  private wakeUp: (() => void) | undefined

  /** `pull` makes one PullMsg call and returns its items. */
  constructor(private readonly pull: () => Promise<{ kind: string }[]>) {}

  on(type: string, fn: Listener): () => void {
    let set = this.listeners.get(type)
    if (!set) this.listeners.set(type, (set = new Set()))
    set.add(fn)
    if (PUSHED_EVENTS.has(type)) {
      const mine = this.held.filter((h) => h.type === type)
      this.held = this.held.filter((h) => h.type !== type)
      for (const h of mine) this.emit(type, h.value)
      void this.loop()
    }
    return () => this.off(type, fn)
  }

  off(type: string, fn: Listener): void {
    this.listeners.get(type)?.delete(fn)
  }

  emit(type: string, value: unknown): void {
    for (const fn of [...(this.listeners.get(type) ?? [])]) {
      try {
        fn(value)
      } catch (e) {
        // A listener's bug must not stop the others or the loop.
        setTimeout(() => {
          throw e
        })
      }
    }
  }

  /** Ends a wait between failed pulls now (the session changed, or the socket is back). */
  wake(): void {
    this.wakeUp?.()
  }

  /** Removes every listener; the loop ends after its current pull. */
  clear(): void {
    this.listeners.clear()
    this.wake()
  }

  private wanted(): boolean {
    for (const type of PUSHED_EVENTS) if (this.listeners.get(type)?.size) return true
    return false
  }

  private deliver(item: { kind: string }): void {
    const type = PUSHED[item.kind]
    if (!type) return
    if (this.listeners.get(type)?.size) return this.emit(type, item)
    this.held.push({ type, value: item })
    if (this.held.length > HELD_MAX) this.held.shift()
  }

  private async loop(): Promise<void> {
    if (this.running) return
    this.running = true
    let failures = 0
    try {
      while (this.wanted()) {
        try {
          const items = await this.pull()
          failures = 0
          for (const item of items) this.deliver(item)
        } catch (e) {
          failures++
          this.emit('error', e)
          if (!this.wanted()) break
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(failures - 1, 10)))
            function done() {
              clearTimeout(timer)
              resolve()
            }
            this.wakeUp = done
          })
          this.wakeUp = undefined
        }
      }
    } finally {
      this.running = false
    }
  }
}
