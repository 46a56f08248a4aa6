// The staff console end to end: a real server, a real headless Chromium.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { ADMIN_PASSWORD, STAFF_PASSWORD, Server } from './support/server.mjs'
import { checkPage, fillSignIn, launch, openPage, signIn } from './support/browser.mjs'
import { filedWageReport, openedTransfer, submittedApplication } from './support/seed.mjs'

let server
let browser
let adminToken

before(async () => {
  server = await Server.start()
  browser = await launch()
  server.createAdmin('gx.admin', '450000')
  adminToken = await server.staffToken('gx.admin', ADMIN_PASSWORD)
  await server.createStaff(adminToken, 'xn.reviewer', '李审核', ['reviewer'], '450102')
  await server.createStaff(adminToken, 'xn.reviewer2', '王复核', ['reviewer'], '450102')
  await server.createStaff(adminToken, 'xn.locked', '赵锁定', ['reviewer'], '450102')
  await server.createStaff(adminToken, 'xn.inspector', '陈监察', ['inspector'], '450102')
})

after(async () => {
  await browser?.close()
  await server?.stop()
})


// The time to a usable first page is a budget (under 1 s), measured and
// printed here for the README, not asserted: a loaded CI machine says nothing
// about the console.
test('the sign-in page loads and its load time is measured', async () => {
  const page = await openPage(browser)
  const started = performance.now()
  await page.goto(`${server.base}/console/`)
  await page.getByRole('button', { name: '登录' }).waitFor()
  console.log(`first page (sign-in) usable after ${(performance.now() - started).toFixed(0)} ms`)
  await checkPage(page, 'signin')
  await page.context().close()
})

test('an administrator created with create-admin signs in and sees the 工作台', async () => {
  const page = await openPage(browser)
  await signIn(page, server.base, 'gx.admin', ADMIN_PASSWORD)
  const started = performance.now()
  await page.getByRole('heading', { name: '工作台' }).waitFor()
  await page.locator('canvas').first().waitFor()
  console.log(`工作台 drawn (chart included) ${(performance.now() - started).toFixed(0)} ms after signing in`)
  assert.equal(await page.getByTestId('staff-name').textContent(), '省级管理员')
  await page.getByTestId('staff-region').filter({ hasText: '广西壮族自治区（450000）' }).waitFor()
  await page.getByText('系统管理员').first().waitFor()
  const transfers = page.getByTestId('queue').filter({ hasText: '办理中的社保转移' })
  await transfers.getByTestId('queue-overdue').filter({ hasText: /^\d+$/ }).waitFor()
  await page.locator('canvas').first().waitFor()
  assert.equal(await page.getByRole('menuitem', { name: '补贴审核' }).count(), 0, 'an administrator has no review queue')
  await checkPage(page, 'dashboard')

  await page.getByRole('button', { name: '退出登录' }).click()
  await page.getByRole('button', { name: '登录' }).waitFor()
  // A page of another role, asked for before signing in, leads to the 工作台.
  await page.goto(`${server.base}/console/applications`)
  await fillSignIn(page, 'gx.admin', ADMIN_PASSWORD)
  await page.getByRole('heading', { name: '工作台' }).waitFor()
  assert.equal(new URL(page.url()).pathname, '/console/')
  await page.context().close()
})

test('a wrong password and a locked account are explained in Chinese', async () => {
  const page = await openPage(browser)
  await signIn(page, server.base, 'xn.locked', 'not-the-password')
  await page.getByRole('alert').filter({ hasText: '用户名或密码不正确' }).waitFor()
  await checkPage(page, 'signin-wrong-password')
  for (let attempt = 2; attempt <= 6; attempt += 1) {
    await page.getByLabel('密码', { exact: true }).fill('not-the-password')
    await page.getByRole('button', { name: '登录' }).click()
    // A refused sign-in empties the password field.
    await page.waitForFunction(() => document.querySelector('#signin-password')?.value === '')
  }
  await page.getByRole('alert').filter({ hasText: '账号已暂时锁定' }).waitFor()
  await page.context().close()
})

test('a reviewer approves an application end to end, signing in again mid-way without losing the decision', async () => {
  const application = await submittedApplication(server, 'console-worker-1', '450102198801011235', '韦小宝')
  const page = await openPage(browser)
  let token
  page.on('request', (request) => {
    const authorization = request.headers().authorization
    if (authorization) token = authorization.replace('Bearer ', '')
  })
  await signIn(page, server.base, 'xn.reviewer', STAFF_PASSWORD)
  const waiting = page.getByTestId('queue').filter({ hasText: '待审核的补贴申请' })
  await waiting.getByTestId('queue-count').filter({ hasText: '1' }).waitFor()

  await page.getByRole('menuitem', { name: '补贴审核' }).click()
  await page.getByRole('heading', { name: '补贴审核' }).waitFor()
  const link = page.getByRole('link', { name: application.application_no })
  await link.waitFor()
  await checkPage(page, 'review-queue')

  await link.click()
  await page.getByTestId('applicant-name').filter({ hasText: '韦**' }).waitFor()
  // The answers and documents under the program's own labels.
  await page.getByRole('row', { name: '企业（个体户）名称 兴宁米粉店' }).waitFor()
  await page.getByText('身份证正反面照片 · image/png').waitFor()
  // Each criterion of the program, checked against the applicant, under the program's own words.
  const eligibility = page.getByTestId('eligibility')
  await eligibility.getByRole('row', { name: /符合/ }).first().waitFor()
  assert.equal(await eligibility.getByText('不符合').count(), 0)
  // The ID card inline, fetched with the token and drawn from a blob: address the CSP allows.
  await page.getByRole('button', { name: '查看身份证正反面照片' }).click()
  const idCard = page.getByRole('img', { name: '身份证正反面照片' })
  await idCard.waitFor()
  await page.waitForFunction((image) => image.complete && image.naturalWidth === 48, await idCard.elementHandle())
  assert.match(await idCard.getAttribute('src'), /^blob:/)
  await checkPage(page, 'review-case')

  await page.getByRole('button', { name: /查看申请人的完整信息/ }).click()
  const reveal = page.getByRole('dialog', { name: '查看申请人的完整信息' })
  await reveal.getByLabel('查看原因').fill('核对身份证照片与填写的身份证号')
  await reveal.getByRole('button', { name: '确认查看' }).click()
  await page.getByTestId('applicant-id-number').filter({ hasText: '450102198801011235' }).waitFor()

  // The session ends behind the page's back (as an idle timeout would) while
  // the reviewer writes: the decision goes through after signing in again.
  await page.getByLabel('意见（可不填）').fill('材料齐全，符合一次性创业补贴条件。')
  await server.call('POST', '/api/v1/auth/logout', { token })
  await page.getByRole('button', { name: '提交决定' }).click()
  const dialog = page.getByRole('dialog').filter({ hasText: '请重新登录' })
  await dialog.getByText('登录已失效').waitFor()
  await checkPage(page, 'reauth-dialog')
  await dialog.getByLabel('密码', { exact: true }).fill(STAFF_PASSWORD)
  await dialog.getByRole('button', { name: '登录并继续' }).click()

  await page.getByTestId('case-status').filter({ hasText: '已批准' }).waitFor()
  await page.getByText('意见：材料齐全，符合一次性创业补贴条件。').waitFor()
  const decided = await server.call('GET', `/api/v1/staff/applications/${application.id}`, {
    token: await server.staffToken('xn.reviewer2', STAFF_PASSWORD),
  })
  assert.equal(decided.status, 'approved')
  assert.equal(decided.approved_amount_fen, decided.requested_amount_fen, 'approved at the amount the rule gives')
  assert.equal(decided.approved_amount_fen, 500_000)
  await page.context().close()
})

test('an expired access token is refreshed without asking the reviewer anything', async () => {
  const page = await openPage(browser)
  await signIn(page, server.base, 'xn.reviewer', STAFF_PASSWORD)
  await page.getByRole('heading', { name: '工作台' }).waitFor()
  const refreshes = []
  page.on('request', (request) => {
    if (request.url().endsWith('/api/v1/auth/refresh')) refreshes.push(request)
  })
  // The next read of the queue finds its access token expired, as after 15 minutes.
  let expired = false
  await page.route('**/api/v1/staff/applications?**', async (route) => {
    if (expired) return route.fallback()
    expired = true
    const problem = { code: 'TOKEN_EXPIRED', message: '登录已过期，请重新登录。', request_id: 'test' }
    await route.fulfill({ status: 401, contentType: 'application/problem+json', body: JSON.stringify(problem) })
  })
  await page.getByRole('menuitem', { name: '补贴审核' }).click()
  await page.getByTestId('queue-table').getByRole('link').first().waitFor()
  assert.ok(expired, 'the queue was first refused')
  assert.equal(refreshes.length, 1, 'the tokens were refreshed once')
  assert.equal(await page.getByRole('dialog').filter({ hasText: '请重新登录' }).count(), 0, 'nobody was asked to sign in')
  await page.context().close()
})

test('a second reviewer sees who decided first and reloads the case', async () => {
  const application = await submittedApplication(server, 'console-worker-2', '450102199002023330', '陆小凤')
  const page = await openPage(browser)
  await signIn(page, server.base, 'xn.reviewer2', STAFF_PASSWORD)
  await page.getByRole('heading', { name: '工作台' }).waitFor()
  await page.getByRole('menuitem', { name: '补贴审核' }).click()
  await page.getByRole('link', { name: application.application_no }).click()
  await page.getByTestId('case-status').filter({ hasText: '已提交' }).waitFor()

  // The first reviewer decides while the second one writes.
  const first = await server.staffToken('xn.reviewer', STAFF_PASSWORD)
  const { version } = await server.call('GET', `/api/v1/staff/applications/${application.id}`, { token: first })
  await server.call('POST', `/api/v1/staff/applications/${application.id}/review`, {
    token: first,
    body: { decision: 'approve', expected_version: version, comment: '同意' },
  })

  // Keyboard only: the decision, the reason, and sending it.
  const approve = page.getByRole('radio', { name: '批准', exact: true })
  await approve.focus()
  await page.keyboard.press('ArrowRight')
  await page.keyboard.press('ArrowRight')
  assert.ok(await page.getByRole('radio', { name: '不予批准' }).isChecked(), 'arrows move the decision')
  await page.keyboard.press('Tab')
  await page.keyboard.type('经营场所与登记地址不符。')
  await page.keyboard.press('Tab')
  await page.keyboard.press('Tab')
  await page.keyboard.press('Enter')

  const stale = page.getByTestId('stale')
  await stale.getByText('工作人员').waitFor()
  await stale.getByText('现在的状态：已批准').waitFor()
  assert.equal(await page.getByLabel('理由（申请人会看到）').inputValue(), '经营场所与登记地址不符。', 'the reason is kept')
  await checkPage(page, 'review-conflict')
  await stale.getByRole('button', { name: '重新加载' }).click()
  await page.getByTestId('case-status').filter({ hasText: '已批准' }).waitFor()
  await page.getByText('无需审核').waitFor()
  await page.context().close()
})

test('the review queue filters and pages on the server', async () => {
  const page = await openPage(browser)
  await signIn(page, server.base, 'xn.reviewer', STAFF_PASSWORD)
  await page.getByRole('menuitem', { name: '补贴审核' }).click()
  const table = page.getByTestId('queue-table')
  await table.getByRole('link').first().waitFor()

  async function choose(selectLabel, option, expectedQuery) {
    const asked = page.waitForRequest((request) => request.url().includes('/api/v1/staff/applications?') && request.url().includes(expectedQuery))
    await page.locator('.el-select').filter({ has: page.getByRole('combobox', { name: selectLabel }) }).click()
    await page.getByRole('option', { name: option, exact: true }).click()
    return asked
  }

  await choose('状态', '已批准', 'status=approved')
  await table.getByText('已批准').first().waitFor()
  assert.equal(await table.getByText('已提交').count(), 0, 'only approved cases are listed')
  assert.match(page.url(), /status=approved/, 'the filter is kept in the address')

  // Every case here was filed today: none has waited three days.
  await choose('等待时间', '3 天以上', 'min_age_days=3')
  await table.getByText('没有符合条件的申请').waitFor()
  await page.locator('.el-select').filter({ has: page.getByRole('combobox', { name: '等待时间' }) }).hover()
  await page.locator('.el-select').filter({ has: page.getByRole('combobox', { name: '等待时间' }) }).locator('.el-select__clear').click()
  await table.getByText('已批准').first().waitFor()

  await choose('状态', '已退回补正', 'status=returned')
  await table.getByText('没有符合条件的申请').waitFor()

  await choose('每页条数', '每页 50 条', 'page_size=50')
  await page.goBack()
  await page.waitForURL(/status=returned$/)
  await page.locator('.el-select').filter({ has: page.getByRole('combobox', { name: '状态' }) }).getByText('已退回补正').waitFor()
  await page.context().close()
})

test('an administrator follows a transfer of the region and records the acceptance for the office', async () => {
  const transfer = await openedTransfer(server, 'console-mover', '450102199001010132', '韦小宝')
  const page = await openPage(browser)
  await signIn(page, server.base, 'gx.admin', ADMIN_PASSWORD)
  await page.getByRole('menuitem', { name: '社保转移' }).click()
  await page.getByRole('heading', { name: '社保转移' }).waitFor()
  const link = page.getByRole('link', { name: transfer.transfer_no })
  await link.waitFor()
  await checkPage(page, 'transfer-queue')

  await link.click()
  await page.getByTestId('person-name').filter({ hasText: '韦**' }).waitFor()
  assert.equal(await page.getByTestId('person-id-number').textContent(), '4501**********0132')
  await checkPage(page, 'transfer-case')
  // Acceptance is the new place's (兴宁区, inside 广西): this office records it.
  await page.getByRole('button', { name: '提交' }).click()
  await page.getByText('环节办结（工作人员）').waitFor()
  const accepted = page.getByTestId('transfer-steps').getByRole('row', { name: /转入地受理转移申请/ })
  await accepted.getByText('已办结').waitFor()
  // The transfer out is the old place's (江宁区): not this office's to record.
  assert.equal(await page.getByRole('button', { name: '提交' }).count(), 0)
  await page.context().close()
})

test('an inspector reads a report, reveals the reporter (audited) and accepts it', async () => {
  const report = await filedWageReport(server, 'console-reporter', '450102199001010212', '韦小宝')
  const page = await openPage(browser)
  await signIn(page, server.base, 'xn.inspector', STAFF_PASSWORD)
  await page.getByRole('menuitem', { name: '欠薪线索' }).click()
  await page.getByRole('heading', { name: '欠薪线索' }).waitFor()
  const link = page.getByRole('link', { name: report.report_no })
  await link.waitFor()
  await checkPage(page, 'wage-queue')

  await link.click()
  await page.getByTestId('reporter-phone').filter({ hasText: '138****5678' }).waitFor()
  await checkPage(page, 'wage-case')
  await page.getByRole('button', { name: /查看反映人的完整信息/ }).click()
  const dialog = page.getByRole('dialog', { name: '查看反映人的完整信息' })
  await dialog.getByRole('button', { name: '确认查看' }).click()
  await dialog.getByText('请填写查看原因').waitFor()
  assert.equal(await page.getByTestId('reporter-phone').textContent(), '138****5678', 'nothing is shown without a reason')
  await dialog.getByRole('button', { name: '电话联系反映人核实欠薪情况' }).click()
  await checkPage(page, 'wage-reveal')
  await dialog.getByRole('button', { name: '确认查看' }).click()
  await page.getByTestId('reporter-phone').filter({ hasText: '13812345678' }).waitFor()
  await page.getByText('本次查看及原因已记入审计日志').waitFor()
  const audit = await server.call('GET', '/api/v1/admin/audit-logs?action=personal_data.reveal', { token: adminToken })
  assert.ok(
    audit.items.some((row) => row.target_id === report.id && row.details.reason === '电话联系反映人核实欠薪情况'),
    'the reveal and its reason are in the audit log',
  )

  await page.getByRole('button', { name: '提交' }).click()
  await page.getByTestId('report-status').filter({ hasText: '已受理' }).waitFor()
  await page.getByText('已受理（劳动保障监察员）').waitFor()
  await page.context().close()
})

test('a county administrator sees only the county, and a province administrator drills down to it', async () => {
  const transfer = await openedTransfer(server, 'console-county-mover', '450102199201010153', '韦小宝')
  await server.createStaff(adminToken, 'qx.admin', '青秀区管理员', ['admin'], '450103')

  const county = await openPage(browser)
  await signIn(county, server.base, 'qx.admin', STAFF_PASSWORD)
  await county.getByTestId('figures-region').filter({ hasText: '青秀区（450103）' }).waitFor()
  await county.getByRole('menuitem', { name: '社保转移' }).click()
  await county.getByTestId('transfer-table').getByText('没有符合条件的转移').waitFor()
  assert.equal(await county.getByRole('link', { name: transfer.transfer_no }).count(), 0, '兴宁区’s case is not listed')
  // Its address, typed in (which signs in again, tokens living in memory only), shows no case either.
  await county.goto(`${server.base}/console/transfers/${transfer.id}`)
  await fillSignIn(county, 'qx.admin', STAFF_PASSWORD)
  await county.getByRole('alert').filter({ hasText: '没有找到您要的内容' }).waitFor()
  assert.equal(await county.getByTestId('person-name').count(), 0)
  await county.context().close()

  const province = await openPage(browser)
  await signIn(province, server.base, 'gx.admin', ADMIN_PASSWORD)
  const subdivisions = province.getByTestId('subdivisions')
  await subdivisions.getByRole('button', { name: '南宁市' }).click()
  await province.getByTestId('figures-region').filter({ hasText: '南宁市' }).waitFor()
  const xingning = subdivisions.getByRole('row', { name: /兴宁区/ })
  await xingning.waitFor()
  const cells = await xingning.getByRole('cell').allTextContents()
  assert.ok(Number(cells[5]) >= 1, `兴宁区 has its transfers in progress: ${cells}`)
  assert.equal(await subdivisions.getByRole('row', { name: /青秀区/ }).getByRole('cell').nth(5).textContent(), '0')
  await province.locator('canvas').nth(2).waitFor()
  await checkPage(province, 'dashboard-drilldown')
  await province.getByRole('button', { name: '广西壮族自治区（450000）' }).click()
  await subdivisions.getByRole('button', { name: '南宁市' }).waitFor()
  await province.context().close()
})
