// The 系统管理 pages end to end: a provincial administrator (made with
// create-admin) creates a reviewer and an integrator client in the console,
// rotates the client's secret, records a provincial holiday and finds those
// actions in the audit log; then exports.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { ADMIN_PASSWORD, Server } from './support/server.mjs'
import { checkPage, launch, openPage, signInToDashboard } from './support/browser.mjs'

let server
let browser

before(async () => {
  server = await Server.start()
  browser = await launch()
  server.createAdmin('gx.admin', '450000')
})

after(async () => {
  await browser?.close()
  await server?.stop()
})


async function openAdminPage(page, title) {
  const submenu = page.getByRole('menuitem', { name: '系统管理' })
  if (!(await page.getByRole('menuitem', { name: title }).isVisible())) await submenu.click()
  await page.getByRole('menuitem', { name: title }).click()
  await page.getByRole('heading', { name: title }).waitFor()
}

/** A client-credentials grant, as an integrator asks for one. */
async function clientToken(clientId, clientSecret) {
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret })
  const response = await fetch(`${server.base}/api/v1/oauth/token`, { method: 'POST', body })
  return { status: response.status, body: await response.json() }
}

/** Drops the browser's log of a refusal the test provoked on purpose, so that checkPage judges the rest. */
function forgetRefusal(page, status) {
  const rest = page.consoleErrors.filter((error) => !new RegExp(`\\b${status}\\b`).test(error))
  page.consoleErrors.splice(0, page.consoleErrors.length, ...rest)
}

/** Ticks a checkbox or radio button by its label (Element Plus draws a box over the input itself). */
async function tick(scope, name) {
  await scope.locator('label.el-checkbox, label.el-radio').filter({ hasText: name }).click()
}

async function chooseOption(page, selectLabel, option) {
  await page.locator('.el-select').filter({ has: page.getByRole('combobox', { name: selectLabel, exact: true }) }).click()
  await page.getByRole('option', { name: option, exact: true }).click()
}

test('an administrator creates staff and a client', async () => {
  const page = await openPage(browser)
  await signInToDashboard(page, server.base, 'gx.admin', ADMIN_PASSWORD)
  await openAdminPage(page, '工作人员账号')
  await page.getByTestId('staff-table').getByText('gx.admin').waitFor()
  await checkPage(page, 'admin-staff')

  // A new reviewer of 兴宁区; the password rule is shown before the API refuses one.
  await page.getByRole('button', { name: '新建账号' }).click()
  const create = page.getByRole('dialog', { name: '新建工作人员账号' })
  await create.getByText('至少10个字符，最多128个字符，且不能与用户名相同。').waitFor()
  await create.getByLabel('用户名').fill('xn.reviewer.new')
  await create.getByLabel('姓名').fill('覃审核')
  await create.getByLabel('初始密码').fill('xn.reviewer.new')
  await tick(create, '补贴审核')
  await create.getByLabel('地区代码').fill('450102')
  await create.getByText('兴宁区（450102）').waitFor()
  await checkPage(page, 'admin-staff-create')
  await create.getByRole('button', { name: '创建' }).click()
  await create.getByRole('alert').filter({ hasText: '密码不能和用户名相同' }).waitFor()
  forgetRefusal(page, 400)
  await create.getByLabel('初始密码').fill('reviewer-password-0001')
  await create.getByRole('button', { name: '创建' }).click()
  const row = page.getByTestId('staff-table').getByRole('row').filter({ hasText: 'xn.reviewer.new' })
  await row.getByText('补贴审核').waitFor()
  await row.getByText('兴宁区（450102）').waitFor()
  const reviewer = await server.call('POST', '/api/v1/staff/auth/login', {
    body: { username: 'xn.reviewer.new', password: 'reviewer-password-0001' },
  })
  assert.deepEqual(reviewer.staff.roles, ['reviewer'])
  const queue = () => fetch(`${server.base}/api/v1/staff/applications`, { headers: { Authorization: `Bearer ${reviewer.access_token}` } })
  assert.equal((await queue()).status, 200, 'the new reviewer works the queue')

  // Another role for the account, then disabled: its session ends.
  await row.getByRole('button', { name: '修改 xn.reviewer.new' }).click()
  const edit = page.getByRole('dialog', { name: '修改账号 xn.reviewer.new' })
  await tick(edit, '个人信息查阅')
  await edit.locator('.el-switch').click()
  await edit.getByRole('button', { name: '保存' }).click()
  await row.getByText('个人信息查阅').waitFor()
  await row.getByText('已停用').waitFor()
  assert.equal((await queue()).status, 401, 'a disabled account is signed out at once')

  // An integrator client of 南宁市; its secret is shown once and works.
  await openAdminPage(page, '对接系统')
  await checkPage(page, 'admin-clients')
  await page.getByRole('button', { name: '新建对接系统' }).click()
  const newClient = page.getByRole('dialog', { name: '新建对接系统' })
  await newClient.getByLabel('名称').fill('南宁市社保经办平台')
  await newClient.getByLabel('服务地区').fill('450100')
  await newClient.getByText('南宁市（450100）').waitFor()
  await tick(newClient, '查询社保转移')
  await tick(newClient, '办理社保转移')
  await newClient.getByRole('button', { name: '创建' }).click()
  const shown = page.getByRole('dialog', { name: '已创建对接系统：南宁市社保经办平台' })
  await shown.getByText('密钥只显示这一次').waitFor()
  const clientId = await shown.getByTestId('client-id').textContent()
  const firstSecret = await shown.getByTestId('client-secret').textContent()
  await checkPage(page, 'admin-client-secret')
  const granted = await clientToken(clientId, firstSecret)
  assert.equal(granted.status, 200, JSON.stringify(granted.body))
  assert.equal(granted.body.token_type, 'Bearer')
  await shown.getByRole('button', { name: '我已保存密钥' }).click()
  const clientRow = page.getByTestId('client-table').getByRole('row').filter({ hasText: '南宁市社保经办平台' })
  await clientRow.getByText('南宁市（450100）').waitFor()
  assert.equal(await page.getByText(firstSecret).count(), 0, 'the secret is not shown again')

  // Rotation: after a confirmation, a new secret once; the old one is refused.
  await clientRow.getByRole('button', { name: '轮换密钥：南宁市社保经办平台' }).click()
  await page.getByRole('dialog', { name: '轮换密钥' }).getByRole('button', { name: '轮换' }).click()
  const rotated = page.getByRole('dialog', { name: '南宁市社保经办平台 的新密钥' })
  const newSecret = await rotated.getByTestId('client-secret').textContent()
  assert.notEqual(newSecret, firstSecret)
  await rotated.getByRole('button', { name: '我已保存密钥' }).click()
  const old = await clientToken(clientId, firstSecret)
  assert.equal(old.status, 401)
  assert.equal(old.body.error, 'invalid_client')
  assert.equal((await clientToken(clientId, newSecret)).status, 200)

  // Revoking, confirmed, ends the client for good.
  await clientRow.getByRole('button', { name: '吊销 南宁市社保经办平台' }).click()
  await page.getByRole('dialog', { name: '吊销对接系统' }).getByRole('button', { name: '吊销' }).click()
  await clientRow.getByText('已吊销').waitFor()
  assert.equal(await clientRow.getByRole('button').count(), 0, 'a revoked client has no actions left')
  assert.equal((await clientToken(clientId, newSecret)).status, 401)
  await page.context().close()
})

test('an administrator records and clears provincial holidays and finds the actions in the audit log', async () => {
  const page = await openPage(browser)
  await signInToDashboard(page, server.base, 'gx.admin', ADMIN_PASSWORD)
  await openAdminPage(page, '工作日历')
  await page.getByText('12月').waitFor()
  await checkPage(page, 'admin-calendar')

  // A working weekday of April becomes Guangxi's holiday.
  const workday = page.locator('button.day[data-day*="-04-"][aria-label$="工作日"]').first()
  const day = await workday.getAttribute('data-day')
  await workday.click()
  const dialog = page.getByRole('dialog').filter({ hasText: day })
  await tick(dialog, '放假')
  await dialog.getByLabel('名称').fill('壮族三月三')
  await checkPage(page, 'admin-calendar-day')
  await dialog.getByRole('button', { name: '保存' }).click()
  const marked = page.locator(`button.day[data-day="${day}"]`)
  await page.waitForFunction((d) => document.querySelector(`button[data-day="${d}"]`)?.getAttribute('aria-label')?.includes('壮族三月三（本省放假）'), day)
  assert.match(await marked.getAttribute('class'), /holiday provincial/)
  const recorded = await server.call('GET', `/api/v1/admin/calendar?region_code=450000&year=${day.slice(0, 4)}`, {
    token: await server.staffToken('gx.admin', ADMIN_PASSWORD),
  })
  assert.deepEqual(
    recorded.items.map(({ day, kind, name }) => ({ day, kind, name })),
    [{ day, kind: 'holiday', name: '壮族三月三' }],
  )

  // A second holiday, set and cleared again: the day follows the weekday rule once more.
  const other = page.locator('button.day[data-day*="-05-"][aria-label$="工作日"]').first()
  const otherDay = await other.getAttribute('data-day')
  await other.click()
  const otherDialog = page.getByRole('dialog').filter({ hasText: otherDay })
  assert.equal(await otherDialog.getByRole('button', { name: '清除' }).count(), 0, 'nothing to clear on a plain working day')
  await otherDialog.getByLabel('名称').fill('临时放假')
  await otherDialog.getByRole('button', { name: '保存' }).click()
  await page.waitForFunction((d) => document.querySelector(`button[data-day="${d}"]`)?.getAttribute('aria-label')?.includes('临时放假'), otherDay)
  await page.locator(`button.day[data-day="${otherDay}"]`).click()
  await otherDialog.getByRole('button', { name: '清除' }).click()
  await page.waitForFunction((d) => document.querySelector(`button[data-day="${d}"]`)?.getAttribute('aria-label')?.endsWith('工作日'), otherDay)

  // The audit log, filtered to each of those actions.
  await openAdminPage(page, '审计日志')
  const table = page.getByTestId('audit-table')
  await table.getByText('设置节假日').first().waitFor()
  await checkPage(page, 'admin-audit')
  for (const [action, name, target] of [
    ['calendar.set', '设置节假日', day],
    ['calendar.clear', '清除节假日', otherDay],
    ['client.rotate', '轮换对接系统密钥', undefined],
    ['staff.create', '创建工作人员账号', undefined],
  ]) {
    const asked = page.waitForResponse((response) => response.url().includes(`action=${encodeURIComponent(action)}`))
    await chooseOption(page, '操作', name)
    await asked
    await table.getByText(action, { exact: true }).first().waitFor()
    const actions = await table.locator('tbody tr .admin-hint').allTextContents()
    assert.ok(actions.length > 0 && actions.every((shown) => shown === action), `only ${action}: ${actions}`)
    if (target) await table.getByText(target).first().waitFor()
  }
  assert.match(page.url(), /action=staff.create/, 'the filter is kept in the address')
  // Each row opens on its details.
  await table.locator('.el-table__expand-icon').first().click()
  await table.getByText('"region_code": "450102"').waitFor()
  await table.getByText('覃审核（xn.reviewer.new）').first().waitFor()
  await checkPage(page, 'admin-audit-details')
  // By who: the reviewer created no account, the administrator did.
  await Promise.all([page.waitForResponse((response) => response.url().includes('actor=')), chooseOption(page, '操作人', '覃审核（xn.reviewer.new）')])
  await table.getByText('没有符合条件的记录').waitFor()
  await Promise.all([page.waitForResponse((response) => response.url().includes('actor=')), chooseOption(page, '操作人', '省级管理员（gx.admin）')])
  await table.getByRole('row').filter({ hasText: '省级管理员（gx.admin）' }).filter({ hasText: 'staff.create' }).waitFor()
  await page.context().close()
})

test('an administrator of a province cannot change the national calendar', async () => {
  const page = await openPage(browser)
  await signInToDashboard(page, server.base, 'gx.admin', ADMIN_PASSWORD)
  await openAdminPage(page, '工作日历')
  await chooseOption(page, '日历', '全国')
  await page.locator('button.day[data-day*="-05-"][aria-label$="工作日"]').first().click()
  const dialog = page.getByRole('dialog').filter({ hasText: '全国' })
  await dialog.getByLabel('名称').fill('试图改全国')
  await dialog.getByRole('button', { name: '保存' }).click()
  await dialog.getByRole('alert').filter({ hasText: '全国的节假日和调休安排只能由全国管理员录入。' }).waitFor()
  await page.context().close()
})

test('an administrator downloads an export with the token in a header, not the address', async () => {
  const page = await openPage(browser)
  const addresses = []
  page.on('request', (request) => addresses.push(request.url()))
  await signInToDashboard(page, server.base, 'gx.admin', ADMIN_PASSWORD)
  await openAdminPage(page, '数据导出')
  await checkPage(page, 'admin-exports')
  await tick(page, '欠薪线索')
  await tick(page, 'CSV')
  const downloading = page.waitForEvent('download')
  await page.getByRole('button', { name: '下载' }).click()
  const download = await downloading
  assert.match(download.suggestedFilename(), /\.csv$/)
  const body = await (await download.createReadStream()).toArray()
  assert.ok(Buffer.concat(body).toString('utf8').startsWith('\ufeff'), 'a CSV Excel reads as UTF-8')
  assert.ok(addresses.some((address) => address.includes('/api/v1/staff/exports/wage-reports.csv')))
  assert.ok(addresses.every((address) => !/token|Bearer/i.test(address)), 'no token in any address')
  await page.context().close()
})
