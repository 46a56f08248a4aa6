// Headless Chromium (Debian's, named by CHROMIUM) driven by playwright-core,
// with what every page of the console is held to: no error in the console
// (a Content-Security-Policy violation is one), no serious or critical
// accessibility violation (axe-core), and a screenshot.
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { chromium } from 'playwright-core'

const require = createRequire(import.meta.url)
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
const screenshots = new URL('../../screenshots/', import.meta.url).pathname

export async function launch() {
  const executablePath = process.env.CHROMIUM
  if (!executablePath) throw new Error('CHROMIUM names the chromium binary (scripts/console_test.sh sets it)')
  // Root in a container has no user namespace for Chromium's sandbox.
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] })
}

/** A fresh browser context (its own memory, so its own session) and a page. */
export async function openPage(browser) {
  const context = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', viewport: { width: 1360, height: 860 } })
  const page = await context.newPage()
  const errors = []
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${message.text()} ${message.location().url}`.trim())
  })
  page.on('pageerror', (error) => errors.push(error.message))
  page.on('response', (response) => {
    if (response.status() >= 400 && ![401, 409, 423].includes(response.status())) {
      errors.push(`${response.status()} ${response.request().method()} ${response.url()}`)
    }
  })
  page.consoleErrors = errors
  return page
}

/**
 * Runs axe-core in the page. axe is evaluated through the DevTools protocol,
 * which the page's CSP does not govern, so the console needs no exception for it.
 */
export async function assertAccessible(page, name) {
  await page.evaluate(axeSource)
  const violations = await page.evaluate(async () => {
    const results = await globalThis.axe.run(document, { resultTypes: ['violations'] })
    return results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')} (${n.failureSummary})`).join('; ')}`)
  })
  assert.deepEqual(violations, [], `${name}: serious or critical accessibility violations`)
}

/** Checks the page as it is now and keeps a screenshot of it. */
export async function checkPage(page, name) {
  // Judged at rest: no loading mask, no transition half way (a spinner turns for ever).
  await page.waitForFunction(
    () =>
      !document.querySelector('.el-loading-mask') &&
      document.getAnimations().every((a) => a.effect?.getComputedTiming().iterations === Infinity),
  )
  await assertAccessible(page, name)
  assert.deepEqual(
    // The browser also logs each refusal as a failed load: the console
    // handles 401 (signing in again), 409 (a stale version) and 423 (a lock).
    page.consoleErrors.filter((e) => !/status of (401|409|423)\b/.test(e)),
    [],
    `${name}: errors in the browser console`,
  )
  mkdirSync(screenshots, { recursive: true })
  await page.screenshot({ path: `${screenshots}${name}.png`, fullPage: true })
}

/** Signs in on the sign-in form the page shows (after a redirect to it, say). */
export async function fillSignIn(page, username, password) {
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码', { exact: true }).fill(password)
  await page.getByRole('button', { name: '登录' }).click()
}

/** Opens the console at `base` and signs in; what follows is the test's to wait for. */
export async function signIn(page, base, username, password) {
  await page.goto(`${base}/console/`)
  await fillSignIn(page, username, password)
}

/** Signs in and waits for the 工作台. */
export async function signInToDashboard(page, base, username, password) {
  await signIn(page, base, username, password)
  await page.getByRole('heading', { name: '工作台' }).waitFor()
}
