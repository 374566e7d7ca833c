// The browser client /lib/leither.js in real Chromium: syscalls over WebSocket and HTTP, errors, login.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { bootTest, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { nodeAndPage } from '../helpers/browser.ts'
import pkg from '../../package.json' with { type: 'json' }

let node: TestKernel
let page: Page
let stop: () => Promise<void>
beforeAll(async () => {
  ;({ node, page, stop } = await nodeAndPage(() => bootTest()))
})
afterAll(() => stop?.())

describe('/lib/leither.js in Chromium', () => {
  for (const transport of ['ws', 'http'] as const) {
    test(`${transport}: generated methods call syscalls; values round-trip`, async () => {
      const out = await page.evaluate(async (transport) => {
        const { LeitherClient } = await import('/lib/leither.js' as string)
        const node = new LeitherClient(undefined, { transport })
        const value = { n: 42, big: 2n ** 70n, f: 1.5, s: 'héllo 😀', bytes: new Uint8Array([0, 1, 255]), when: new Date(Date.UTC(2020, 0, 2)), list: [1, null, true] }
        const back = await node.Echo(value)
        const many = await Promise.all(Array.from({ length: 50 }, (_, i) => node.Echo(i)))
        const result = {
          ver: await node.GetVar('ver'),
          who: (await node.WhoAmI()).kind,
          same: back.n === 42 && back.big === 2n ** 70n && back.s === value.s && back.bytes.join() === '0,1,255' && back.when.getTime() === value.when.getTime() && back.list[2] === true,
          many: many.join(',') === Array.from({ length: 50 }, (_, i) => i).join(','),
        }
        node.close()
        return result
      }, transport)
      expect(out).toEqual({ ver: pkg.version, who: 'guest', same: true, many: true })
    })
  }

  test('errors carry their code; login keeps the sid for later calls', async () => {
    const ppt = loginPassport(node)
    const out = await page.evaluate(async (ppt) => {
      const { LeitherClient, LeitherError } = await import('/lib/leither.js' as string)
      const node = new LeitherClient()
      let denied = ''
      try {
        await node.MonitorStats()
      } catch (e) {
        denied = e instanceof LeitherError ? (e as { code: string }).code : "not a LeitherError"
      }
      const login = await node.login(ppt)
      const who = await node.WhoAmI()
      const stats = await node.MonitorStats()
      node.close()
      return { denied, owner: login.owner, kind: who.kind, hasStats: Array.isArray(stats) && stats.length > 0 }
    }, ppt)
    expect(out).toEqual({ denied: 'PermissionDenied', owner: true, kind: 'owner', hasStats: true })
  })
})
