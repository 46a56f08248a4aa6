// Finance pays end to end: an approved case with a payee account becomes a
// batch, its bank file is downloaded, and the bank's answer is recorded.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { ADMIN_PASSWORD, STAFF_PASSWORD, Server } from './support/server.mjs'
import { checkPage, launch, openPage, signIn } from './support/browser.mjs'
import { PAYEE_CARD, PAYEE_CARD_MASKED, approvedApplicationWithPayee } from './support/seed.mjs'

let server
let browser

before(async () => {
  server = await Server.start()
  browser = await launch()
  server.createAdmin('gx.admin', '450000')
  const adminToken = await server.staffToken('gx.admin', ADMIN_PASSWORD)
  await server.createStaff(adminToken, 'xn.reviewer', '李审核', ['reviewer'], '450102')
  await server.createStaff(adminToken, 'nn.finance', '黄出纳', ['finance'], '450100')
})

after(async () => {
  await browser?.close()
  await server?.stop()
})

test('finance pays an approved case: batch, bank file, the bank’s answer per line', async () => {
  const reviewer = await server.staffToken('xn.reviewer', STAFF_PASSWORD)
  const application = await approvedApplicationWithPayee(server, reviewer, 'finance-worker-1', '450102198801011235', '韦小宝')
  const page = await openPage(browser)
  const fileRequests = []
  page.on('request', (request) => {
    if (request.url().includes('/file')) fileRequests.push(request)
  })
  await signIn(page, server.base, 'nn.finance', STAFF_PASSWORD)

  const queue = page.getByTestId('queue').filter({ hasText: '待发放的补贴' })
  await queue.getByTestId('queue-count').filter({ hasText: /^1$/ }).waitFor()
  await page.getByRole('menuitem', { name: '资金发放' }).click()
  await page.getByRole('heading', { name: '资金发放' }).waitFor()
  const ready = page.getByTestId('ready-table').getByRole('row').filter({ hasText: application.application_no })
  await ready.getByText(PAYEE_CARD_MASKED).waitFor()
  assert.equal(await page.getByTestId('ready-count').textContent(), '1')
  await checkPage(page, 'payments')

  await page.getByRole('button', { name: '生成发放批次' }).click()
  const confirm = page.getByRole('dialog', { name: '生成发放批次' })
  await confirm.getByText('将把待发放的 1 件申请生成一个发放批次').waitFor()
  await confirm.getByRole('button', { name: '确定生成' }).click()

  await page.getByRole('heading', { name: /发放批次 ZF-450100-/ }).waitFor()
  const batchNo = (await page.locator('#batch-title .case-number').textContent()).trim()
  const line = page.getByTestId('line-table').getByRole('row').filter({ hasText: application.application_no })
  await line.getByText(PAYEE_CARD_MASKED).waitFor()
  await line.getByTestId('line-outcome').filter({ hasText: '待银行回复' }).waitFor()
  assert.equal(await page.getByTestId('line-table').getByText(PAYEE_CARD).count(), 0, 'the page shows the account masked')
  await checkPage(page, 'payment-batch')

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '下载银行文件' }).click()])
  assert.equal(download.suggestedFilename(), `${batchNo}.csv`)
  const rows = readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, '').trim().split(/\r?\n/)
  assert.equal(rows[1], `1,韦小宝,${PAYEE_CARD},中国工商银行,5000.00,农民工补贴,${batchNo}-1`)
  assert.equal(fileRequests.length, 1)
  assert.equal(new URL(fileRequests[0].url()).search, '', 'no token in the address')
  assert.match((await fileRequests[0].allHeaders()).authorization ?? '', /^Bearer /, 'the token goes in a header')

  await line.getByRole('button', { name: '记录结果' }).click()
  const answer = page.getByRole('dialog', { name: '记录银行结果：第 1 笔' })
  await answer.getByLabel('银行交易流水号').fill('ICBC-20261130-0001')
  await checkPage(page, 'payment-answer')
  await answer.getByRole('button', { name: '保存' }).click()
  await line.getByTestId('line-outcome').filter({ hasText: '已支付' }).waitFor()
  await line.getByText('流水号 ICBC-20261130-0001').waitFor()
  assert.equal(await page.getByTestId('waiting-lines').textContent(), '0')
  assert.equal(await line.getByRole('button', { name: '记录结果' }).count(), 0, 'a line is answered once')

  const finance = await server.staffToken('nn.finance', STAFF_PASSWORD)
  const paid = await server.call('GET', `/api/v1/staff/applications/${application.id}`, { token: finance })
  assert.equal(paid.status, 'disbursed')
  assert.equal(paid.disbursed_amount_yuan, '5000.00')
  assert.equal(paid.paid_to_account, PAYEE_CARD_MASKED)

  await page.getByRole('link', { name: '资金发放' }).click()
  const listed = page.getByTestId('batch-table').getByRole('row').filter({ hasText: batchNo })
  await listed.getByText('已全部回复').waitFor()
  await listed.getByText('已支付 1 笔，已退回 0 笔').waitFor()
  await page.getByTestId('ready-count').filter({ hasText: /^0$/ }).waitFor()

  // Nothing is left to pay: the API's refusal is shown in the dialog, in Chinese.
  await page.getByRole('button', { name: '生成发放批次' }).click()
  await confirm.getByRole('button', { name: '确定生成' }).click()
  await confirm.getByRole('alert').filter({ hasText: '没有可以发放的申请' }).waitFor()
  await checkPage(page, 'payments-nothing-to-pay')
  await page.context().close()
})
