import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sampleDraft } from '../_helpers/records.js'
import { type GatewayFixture, post, startGateway } from './_gateway.js'

// The operator web view in a real headless Chromium (Debian's `chromium`, which .ci/run installs):
// the page loads from the gateway with no other network, shows a function published in the test, and
// a call made through the API appears in its live feed. FMESH_SCREENSHOT=docs/gateway-web-view.png
// writes the README's screenshot; otherwise it goes to a temporary directory.

const CHROMIUM = process.env.FMESH_CHROMIUM ?? '/usr/bin/chromium'
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

let g: GatewayFixture
let profile: string
let browser: BrowserContext
let page: Page
const offline: string[] = []

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the browser test needs it and does not skip. Install it with \`apt-get install -y --no-install-recommends chromium\` (.ci/run does), or set FMESH_CHROMIUM.`,
    )
  g = await startGateway()
  await g.mesh.publish(sampleDraft('acme.com/image/sharpen'), { signer: g.signer })
  profile = mkdtempSync(join(tmpdir(), 'fmesh-chromium-'))
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 860 },
  })
  page = browser.pages()[0] ?? (await browser.newPage())
  // Works offline: anything but the gateway itself is refused and recorded.
  await page.route('**/*', (route) => {
    const url = route.request().url()
    if (url.startsWith(g.url)) return route.continue()
    offline.push(url)
    return route.abort()
  })
})

afterAll(async () => {
  await browser?.close()
  await g?.close()
  if (profile) rmSync(profile, { recursive: true, force: true })
})

describe('web view in headless Chromium', () => {
  it('loads and shows the functions with their versions, providers and health', async () => {
    await page.goto(`${g.url}/`)
    await page.waitForSelector('body[data-loaded="true"]')
    const row = page.locator('tr[data-function="acme.com/image/sharpen"]')
    await row.waitFor()
    const text = await row.innerText()
    expect(text).toContain('1.4.1')
    expect(text).toContain('provider-123 closed')
    expect(text).toContain('mem')
    await page.locator('tr[data-function="acme.com/text/upper"]').waitFor()
    expect(offline).toEqual([])
  })

  it('shows a call made through the API in the live feed, the recent calls and usage', async () => {
    await page.waitForSelector('#feed-state.live')
    const res = await post(
      `${g.url}/v1/call`,
      { name: 'acme.com/text/upper', input: { text: 'from the browser test' } },
      { token: g.token },
    )
    const { invocationId } = (await res.json()) as { invocationId: string }
    const item = page.locator('#feed li[data-event="call"]').first()
    await item.waitFor()
    expect(await item.innerText()).toContain('acme.com/text/upper@1.0.0 ok via local, 10 USDC (app)')
    const call = page.locator(`#calls tr[data-invocation="${invocationId}"]`)
    await call.waitFor()
    expect(await call.innerText()).toContain('completed')
    await page.locator('#usage-function tbody tr', { hasText: 'acme.com/text/upper' }).waitFor()
    // A failed call shows too, with its code.
    await post(`${g.url}/v1/call`, { name: 'acme.com/text/upper', input: { text: 7 } }, { token: g.token })
    await page.locator('#feed li[data-event="call"].error').first().waitFor()
    expect(await page.locator('#feed li[data-event="call"].error').first().innerText()).toContain(
      'E_INPUT_INVALID',
    )
  })

  it('writes a screenshot', async () => {
    await post(`${g.url}/v1/dispatch`, { kind: 'none.yet', event: {} }, { token: g.token })
    await page.locator('#calls tbody tr').nth(1).waitFor()
    const file =
      process.env.FMESH_SCREENSHOT ?? join(mkdtempSync(join(tmpdir(), 'fmesh-shot-')), 'web-view.png')
    mkdirSync(dirname(file), { recursive: true })
    await page.screenshot({ path: file, fullPage: true })
    expect(readFileSync(file).subarray(1, 4).toString()).toBe('PNG')
    expect(offline).toEqual([])
  })
})
