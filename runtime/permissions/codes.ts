// One-time sign-in codes: how a session reaches a browser page without a sid in any URL. A user's
// own session (or the CLI, as the owner: `leither open`) asks for a code; the page at the link
// trades it once, within a minute, for a session of its own, bound to its app when it is one.
import { randomBytes } from 'node:crypto'
import { Busy, NotFound } from '../errors.ts'

export interface CodeHolder {
  readonly userId: string
  readonly kind: 'user' | 'owner'
  /** The app the session is for; absent: the launcher (the node's own origin). */
  readonly app?: string
}

/** A code lives this long, and is good once. */
export const CODE_TTL_MS = 60_000
const MAX_CODES = 1000

export class SignInCodes {
  private readonly codes = new Map<string, CodeHolder & { expires: number }>()

  issue(holder: CodeHolder): string {
    this.sweep()
    if (this.codes.size >= MAX_CODES) throw new Busy('too many sign-in codes are waiting to be used; try again in a minute')
    const code = randomBytes(18).toString('base64url')
    this.codes.set(code, { ...holder, expires: Date.now() + CODE_TTL_MS })
    return code
  }

  /** The holder of a live code; the code is gone afterwards whatever happens next. */
  take(code: string): CodeHolder {
    const held = this.codes.get(code)
    this.codes.delete(code)
    if (!held || held.expires < Date.now()) throw new NotFound('unknown, used or expired sign-in code; open the link again from the launcher or run leither open')
    return { userId: held.userId, kind: held.kind, ...(held.app ? { app: held.app } : {}) }
  }

  private sweep(): void {
    const t = Date.now()
    for (const [code, held] of this.codes) if (held.expires < t) this.codes.delete(code)
  }
}
