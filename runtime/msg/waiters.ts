// Wake-ups for long polls: PullMsg waits on keys ("u:<user>", "s:<sid>") until something for one
// of them arrives, its time is up, or the node stops.

export function waiters() {
  const byKey = new Map<string, Set<() => void>>()

  const remove = (keys: readonly string[], fn: () => void) => {
    for (const k of keys) {
      const set = byKey.get(k)
      set?.delete(fn)
      if (set?.size === 0) byKey.delete(k)
    }
  }

  return {
    /** Resolves when any key is woken or after `ms`; never rejects. */
    any(keys: readonly string[], ms: number): Promise<void> {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer)
          remove(keys, done)
          resolve()
        }
        const timer = setTimeout(done, ms)
        for (const k of keys) {
          const set = byKey.get(k) ?? new Set()
          set.add(done)
          byKey.set(k, set)
        }
      })
    },
    wake(key: string): void {
      for (const fn of [...(byKey.get(key) ?? [])]) fn()
    },
    wakeAll(): void {
      for (const set of [...byKey.values()]) for (const fn of [...set]) fn()
    },
  }
}
