// Logging: levels, daily files, and redaction of keys, passports and session ids.
import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLogger, redact } from '../../runtime/log/index.ts'
import { generateKeyPair, signPassport } from '../../runtime/identity/index.ts'
import { tempDir } from '../helpers/node.ts'

describe('log', () => {
  test('writes lines at or above the level to a daily file', () => {
    using dir = tempDir()
    const log = createLogger({ level: 'info', dir, stderr: false })
    log.debug('hidden')
    log.info('shown', { n: 1 })
    log.child('net').warn('scoped')
    log.setLevel('debug')
    log.debug('now shown')
    log.close()
    const [file] = readdirSync(dir)
    expect(file).toBe(`leither-${new Date().toISOString().slice(0, 10)}.log`)
    const text = readFileSync(join(dir, file), 'utf8')
    expect(text).not.toContain('hidden')
    expect(text).toContain('INFO  shown n=1')
    expect(text).toContain('WARN  [net] scoped')
    expect(text).toContain('DEBUG now shown')
  })

  test('secret fields and passports never reach the file', () => {
    using dir = tempDir()
    const key = generateKeyPair()
    const ppt = signPassport(key, { audience: key.id })
    const sig = JSON.parse(ppt).Signature
    const log = createLogger({ level: 'debug', dir, stderr: false })
    log.info('login', { sid: 'S3CR3T-SID', ppt, secretKey: 'K3Y', user: key.id, nested: { session: 'X1', ok: 1 } })
    log.info(`passport was ${ppt}`)
    log.close()
    const text = readFileSync(join(dir, readdirSync(dir)[0]), 'utf8')
    for (const secret of ['S3CR3T-SID', 'K3Y', sig, 'X1']) expect(text).not.toContain(secret)
    expect(text).toContain(key.id)
    expect(text).toContain('"ok":1')
  })

  test('redact keeps ordinary values', () => {
    expect(redact({ port: 4800, name: 'x', list: [1, 2] })).toEqual({ port: 4800, name: 'x', list: [1, 2] })
    expect(redact('plain text')).toBe('plain text')
  })
})
