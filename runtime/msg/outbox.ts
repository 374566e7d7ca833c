// The outbox worker: delivers queued messages when they fall due, a few at a time, and on failure
// schedules the next try with exponential backoff. The queue is the msg_outbox table, so it
// survives restarts; this file only decides when to try.
import type { Logger } from '../log/index.ts'
import type { DueMessage, MsgStore } from './store.ts'

export interface OutboxInit {
  readonly store: MsgStore
  readonly log: Logger
  /** Delivers one message; resolves with the node id that took it ("" = this node), or throws why not. */
  readonly deliver: (m: DueMessage) => Promise<string>
  readonly backoffBaseMs: number
  readonly backoffMaxMs: number
  /** Told after each try: delivered, or why not. */
  readonly attempted?: (a: { id: string; to: string; ok: boolean; error?: string }) => void
}

/** Messages tried at once: each may wait on a DHT lookup and a dial. */
const PARALLEL = 4
const BATCH = 32

export function backoffMs(step: number, base: number, max: number): number {
  const plain = Math.min(base * 2 ** Math.min(step, 30), max)
  // ±20% jitter: senders that failed together do not all retry in the same instant.
  return Math.round(plain * (0.8 + Math.random() * 0.4))
}

export function outboxWorker(init: OutboxInit) {
  const { store, log } = init
  let timer: ReturnType<typeof setTimeout> | undefined
  let running: Promise<void> | undefined
  let again = false
  let stopped = false

  const attempt = async (m: DueMessage) => {
    try {
      const node = await init.deliver(m)
      if (stopped) return
      store.delivered(m.id, node, Date.now())
      log.debug('message delivered', { id: m.id, to: m.to, node })
      init.attempted?.({ id: m.id, to: m.to, ok: true })
    } catch (err) {
      if (stopped) return
      const wait = backoffMs(m.step, init.backoffBaseMs, init.backoffMaxMs)
      store.failed(m.id, (err as Error).message, Date.now() + wait)
      log.debug('message not delivered yet', { id: m.id, to: m.to, retryInMs: wait, error: (err as Error).message })
      init.attempted?.({ id: m.id, to: m.to, ok: false, error: (err as Error).message })
    }
  }

  const drain = async () => {
    do {
      again = false
      for (let due = store.due(Date.now(), BATCH); due.length && !stopped; due = store.due(Date.now(), BATCH)) {
        for (let i = 0; i < due.length && !stopped; i += PARALLEL) await Promise.all(due.slice(i, i + PARALLEL).map(attempt))
      }
    } while (again && !stopped)
  }

  const schedule = () => {
    if (stopped) return
    clearTimeout(timer)
    const next = store.nextDue()
    if (next === undefined) return
    timer = setTimeout(kick, Math.max(0, next - Date.now()))
  }

  function kick(): void {
    if (stopped) return
    if (running) {
      again = true
      return
    }
    running = drain()
      .catch((err) => log.error('outbox worker failed', { error: (err as Error).message }))
      .finally(() => {
        running = undefined
        schedule()
      })
  }

  return {
    /** Looks for due messages now (after a send, or when connectivity changed). */
    kick,
    async stop(): Promise<void> {
      stopped = true
      clearTimeout(timer)
      await running
    },
  }
}
