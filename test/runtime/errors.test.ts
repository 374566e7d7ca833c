// The errors table: wire codes never change, each class carries its row, /mm/ statuses come from it.
import { expect, test } from 'bun:test'
import * as errors from '../../runtime/errors.ts'
import { ERRORS, LeitherError } from '../../runtime/errors.ts'

// The codes as shipped: clients match on them, so this list only grows (append; never edit).
const SHIPPED = ['InvalidParams', 'PermissionDenied', 'NotFound', 'Busy', 'Corrupt', 'InvalidSignature', 'Timeout', 'QuotaExceeded', 'Conflict', 'DiskFull', 'PaymentRequired', 'WriteFailed', 'InvalidRequest', 'Internal']

test('every shipped wire code is still in the table, in the same order', () => {
  expect(ERRORS.map((r) => r.code).slice(0, SHIPPED.length)).toEqual(SHIPPED)
})

test('each condition exported from runtime/errors.ts is its own class, named and coded by its row', () => {
  const classes = Object.entries(errors).filter(([name, v]) => typeof v === 'function' && name !== 'LeitherError')
  expect(classes.map(([name]) => name).sort()).toEqual(ERRORS.map((r) => r.code).sort())
  for (const row of ERRORS) {
    const Cls = (errors as Record<string, unknown>)[row.code] as new (m: string) => LeitherError
    const err = new Cls('what went wrong')
    expect(err).toBeInstanceOf(LeitherError)
    expect(err).toBeInstanceOf(Error)
    expect(err.code).toBe(row.code)
    expect(err.status).toBe(row.status)
    expect(err.wireText()).toBe(`${row.code}: what went wrong`)
    expect(Cls.name).toBe(row.code)
    expect(row.doc.length).toBeGreaterThan(10)
  }
})

test('statuses are HTTP error statuses, and the three /mm/ has always answered keep theirs', () => {
  for (const row of ERRORS) expect(row.status >= 400 && row.status < 600).toBe(true)
  const status = Object.fromEntries(ERRORS.map((r) => [r.code, r.status]))
  expect([status.NotFound, status.PermissionDenied, status.InvalidParams]).toEqual([404, 403, 400])
})

test('a subclass of a condition keeps its code (UsageError, HproseDecodeError)', () => {
  class Narrower extends errors.InvalidParams {}
  const err = new Narrower('bad flag')
  expect(err).toBeInstanceOf(errors.InvalidParams)
  expect(err.code).toBe('InvalidParams')
  expect(err.status).toBe(400)
})
