// Headless Chromium from npm (@sparticuz/chromium) driven by playwright-core, for tests of pages in a real browser.
//
// The browser ships inside the npm package and is unpacked to the temp dir on first use, so the
// browser tests run after `npm install` alone; no Debian package is needed. Playwright starts
// each launch on a fresh temporary profile (it refuses a --user-data-dir argument and makes its
// own), so no state leaks from one run to the next.
import sparticuz from '@sparticuz/chromium'
import { chromium, type Browser, type Page } from 'playwright-core'

/**
 * Flags the package sets for serverless hosts that would make a browser test prove less than it
 * claims: without web security a page may read any origin's replies (no CORS, no mixed-content
 * checks), so the browser would accept what a real one refuses.
 */
const WEAKENING = new Set(['--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials'])
/** Also left out: in one process, closing a browser context hangs the browser (tests open and close many). */
const UNUSED = new Set(['--single-process'])

/** Keeps the browser off the network: no update checks, sync, field trials or first-run pages. */
export const OFFLINE_FLAGS = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-default-apps', '--disable-field-trial-config']

/** The arguments a test browser is launched with: the package's, less the ones above, plus OFFLINE_FLAGS. */
export function browserArgs(): string[] {
  return [...sparticuz.args.filter((a) => !WEAKENING.has(a) && !UNUSED.has(a)), ...OFFLINE_FLAGS]
}

/** Path of the Chromium binary (unpacked from the package on first call, about 2 s). */
export function chromiumPath(): Promise<string> {
  return sparticuz.executablePath()
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: await chromiumPath(), args: browserArgs(), headless: true })
}

/**
 * A node in-process and a Chromium page already on the node's own origin (the launcher's page):
 * what a test of /lib/leither.js in the browser starts from. `stop` closes both.
 */
export async function nodeAndPage<N extends { url: string; stop(): Promise<void> }>(boot: () => Promise<N>) {
  const node = await boot()
  const browser = await launchBrowser()
  const page: Page = await browser.newPage()
  await page.goto(`${node.url}/`)
  return { node, browser, page, stop: async () => (await browser.close(), await node.stop()) }
}
