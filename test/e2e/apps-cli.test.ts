// `leither open [APP]` and `leither app shortcut` against a running node process, their output
// followed in real Chromium: the launcher and the app signed in, the shortcut opened from file://.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContext } from 'playwright-core'
import { appHost } from '../../runtime/apps/ids.ts'
import { launchBrowser } from '../helpers/browser.ts'
import { cli, startNode, tempDir, type RunningNode } from '../helpers/node.ts'
import { writeAppDir } from '../apps/helpers.ts'
import { testAppFiles } from './apps-fixture.ts'

let data: string & Disposable
let node: RunningNode
let browser: Browser
let context: BrowserContext
let id: string
const on = (...args: string[]) => cli([...args, '--data', data, '--node', node.url])

beforeAll(async () => {
  data = tempDir()
  node = await startNode(['--data', data, '--port', '0', '--host', '127.0.0.1', '--offline'])
  using src = tempDir()
  writeAppDir(src, { files: Object.fromEntries(testAppFiles('gamma').map((f) => [f.path, f.bytes])) })
  const file = join(src, 'gamma.lapp')
  const pack = await cli(['app', 'pack', src, '-o', file, '--data', data])
  expect(pack.code).toBe(0)
  id = /app id: (\S+)/.exec(pack.stdout)![1]
  expect((await on('app', 'install', file, '--yes')).code).toBe(0)
  browser = await launchBrowser()
  context = await browser.newContext({ locale: 'en-US' })
})
afterAll(async () => {
  await browser?.close()
  await node?.stop()
  data?.[Symbol.dispose]()
})

const port = () => new URL(node.url).port

describe('leither open', () => {
  test('prints a one-time link that signs the launcher in, once', async () => {
    const r = await on('open', '--no-browser')
    expect(r.code).toBe(0)
    const link = /^http:\S+$/m.exec(r.stdout)![0]
    expect(link).toStartWith(`http://localhost:${port()}/?code=`)
    const page = await context.newPage()
    await page.goto(link)
    await page.waitForSelector('body[data-ready="1"]')
    expect(await page.textContent('#who')).toContain('Owner')
    await page.waitForSelector(`[data-app="${id}"]`)
    // The same link a second time: the code is spent.
    const again = await context.newPage()
    await again.goto(link)
    await again.waitForSelector('#signin:not([hidden])')
    expect(await again.textContent('#signin-note')).toContain('used or has expired')
    await page.close()
    await again.close()
  })

  test('APP by name opens the app signed in; an unknown name is a usage error', async () => {
    const r = await on('open', 'gamma', '--no-browser')
    expect(r.code).toBe(0)
    const link = /^http:\S+$/m.exec(r.stdout)![0]
    expect(link).toStartWith(`http://${appHost(id)}.localhost:${port()}/?code=`)
    const page = await context.newPage()
    await page.goto(link)
    await page.waitForSelector('body[data-runs="1"]')
    const out = JSON.parse((await page.textContent('#out'))!)
    expect(out.signedIn).toBe(true)
    expect(out.granted.ok).toBe(true)
    await page.close()

    const bad = await on('open', 'nope', '--no-browser')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('no installed app is named "nope"; installed: gamma')
  })
})

describe('leither app shortcut', () => {
  test('writes a file under 8 KB that opens the app from file://', async () => {
    using out = tempDir()
    const file = join(out, 'gamma.html')
    const r = await on('app', 'shortcut', 'gamma', '-o', file)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`http://127.0.0.1:${port()}`)
    expect(statSync(file).size).toBeLessThanOrEqual(8 * 1024)
    const page = await context.newPage()
    await page.goto(`file://${file}`)
    await page.waitForURL(`http://${appHost(id)}.localhost:${port()}/**`)
    expect(await page.textContent('h1')).toBe('gamma')
    await page.close()
  })
})
