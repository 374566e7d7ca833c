// Headless Chromium (Debian's) driven by playwright-core, for end-to-end tests of pages and apps.
import { chromium, type Browser } from 'playwright-core'
import { existsSync } from 'node:fs'

export const CHROMIUM = '/usr/bin/chromium'

export function haveChromium(): boolean {
  return existsSync(CHROMIUM)
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
}
