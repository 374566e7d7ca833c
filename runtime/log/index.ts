// Leveled logging to stderr and to daily files in <data>/logs; secrets are redacted before writing.
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { LogLevel } from '../config/index.ts'

export type Fields = Record<string, unknown>

export interface Logger {
  debug(msg: string, fields?: Fields): void
  info(msg: string, fields?: Fields): void
  warn(msg: string, fields?: Fields): void
  error(msg: string, fields?: Fields): void
  /** A logger writing to the same sinks with a scope tag, e.g. `[http]`. */
  child(scope: string): Logger
  setLevel(level: LogLevel): void
  close(): void
}

export interface LoggerInit {
  level: LogLevel
  /** Directory for daily files; none = stderr only (CLI commands that only print). */
  dir?: string
  /** Write to stderr too (default true). */
  stderr?: boolean
  /** Days of files kept (default 14). */
  keepDays?: number
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/** Field names whose values are never written: keys, passports, session ids, signatures. */
const SECRET_FIELD = /(secret|private|key$|^key|ppt|passport|sid$|^sid|session|token|password|^pass$|signature)/i
/** A passport or a JSON fragment carrying a signature or secret, wherever it appears in text. */
const SECRET_TEXT = /("(?:Signature|secretKey|SignerPK)"\s*:\s*")[^"]*(")/g

export function redact(value: unknown, name = ''): unknown {
  if (name && SECRET_FIELD.test(name)) return '[redacted]'
  if (typeof value === 'string') return value.replace(SECRET_TEXT, '$1[redacted]$2')
  if (value instanceof Error) return redact(value.message)
  if (Array.isArray(value)) return value.map((v) => redact(v))
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = redact(v, k)
    return out
  }
  return value
}

function formatFields(fields: Fields | undefined): string {
  if (!fields) return ''
  let out = ''
  for (const [k, v] of Object.entries(fields)) {
    const clean = redact(v, k)
    // Strings are quoted only when they would otherwise break the k=v layout; objects print as JSON.
    const text =
      typeof clean === 'string'
        ? /[\s"=]/.test(clean)
          ? JSON.stringify(clean)
          : clean
        : JSON.stringify(clean, (_, x) => (typeof x === 'bigint' ? x.toString() : x))
    out += ` ${k}=${text}`
  }
  return out
}

class DailyFile {
  private fd: number | undefined
  private day = ''
  constructor(private readonly dir: string, private readonly keepDays: number) {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
  }
  write(line: string, now: Date): void {
    const day = now.toISOString().slice(0, 10)
    if (day !== this.day) this.rotate(day)
    if (this.fd !== undefined) writeSync(this.fd, line)
  }
  private rotate(day: string): void {
    this.close()
    this.day = day
    this.fd = openSync(join(this.dir, `leither-${day}.log`), 'a', 0o600)
    const cutoff = new Date(Date.parse(day) - this.keepDays * 86400_000).toISOString().slice(0, 10)
    for (const f of readdirSync(this.dir)) {
      const m = /^leither-(\d{4}-\d{2}-\d{2})\.log$/.exec(f)
      if (m && m[1] < cutoff) rmSync(join(this.dir, f), { force: true })
    }
  }
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }
}

export function createLogger(init: LoggerInit): Logger {
  const state = { level: init.level }
  const file = init.dir ? new DailyFile(init.dir, init.keepDays ?? 14) : undefined
  const toStderr = init.stderr ?? true

  const make = (scope: string): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: Fields) => {
      if (RANK[level] < RANK[state.level]) return
      const now = new Date()
      const line = `${now.toISOString()} ${level.toUpperCase().padEnd(5)} ${scope ? `[${scope}] ` : ''}${redact(msg)}${formatFields(fields)}\n`
      if (toStderr) process.stderr.write(line)
      file?.write(line, now)
    }
    return {
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (s) => make(scope ? `${scope}.${s}` : s),
      setLevel: (l) => {
        state.level = l
      },
      close: () => file?.close(),
    }
  }
  return make('')
}
