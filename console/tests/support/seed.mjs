// Cases for the console to work on, made through the API as a worker's
// mini-program makes them: a returning worker of 南宁市兴宁区 (450102) applies
// for the one-time startup subsidy with their ID card and business licence.

/** A real picture (48×30, a blue card on grey), so that the console can show it inline. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAADAAAAAeCAIAAADlxgqWAAAAOklEQVR42u3XQREAIAwDwaqrMNQhpxLwwKdl2JsI2G+ihhVAT4Ny7ZYBAQEBAQEBAQEBAf0C8suALjqI44am9ZGK0wAAAABJRU5ErkJggg==',
  'base64',
)

async function upload(server, token, purpose) {
  const form = new FormData()
  form.append('purpose', purpose)
  form.append('file', new Blob([PNG], { type: 'image/png' }), 'photo.png')
  return (await server.call('POST', '/api/v1/uploads', { token, body: form })).id
}

/** A new worker of 兴宁区 (`code` signs them in) with a complete profile; their token. */
async function worker(server, code, idNumber, realName) {
  const { access_token: token } = await server.call('POST', '/api/v1/auth/wechat/login', { body: { code } })
  await server.call('PUT', '/api/v1/me/profile', {
    token,
    body: {
      real_name: realName,
      id_number: idNumber,
      consent_version: '2026-11',
      hukou_region_code: '450102',
      hukou_type: 'agricultural',
      residence_region_code: '450102',
      work_region_code: '450102',
    },
  })
  return token
}

/** Submits an application of a new worker (`code` signs them in); returns it. */
export async function submittedApplication(server, code, idNumber, realName) {
  const token = await worker(server, code, idNumber, realName)
  const programs = await server.call('GET', '/api/v1/programs?region_code=450102&kind=startup_subsidy')
  const body = {
    program_id: programs.items[0].id,
    answers: { returning_worker: true, business_name: '兴宁米粉店', business_registered_on: '2025-01-15', employees: 4 },
    attachment_ids: [await upload(server, token, 'id_card'), await upload(server, token, 'business_license')],
    submit: true,
  }
  return server.call('POST', '/api/v1/applications', { token, body, headers: { 'Idempotency-Key': `console-${code}` } })
}

/** A new worker back from 南京市江宁区 asks to move their medical insurance home to 兴宁区; the case. */
export async function openedTransfer(server, code, idNumber, realName) {
  const token = await worker(server, code, idNumber, realName)
  const body = { insurance_type: 'medical', from_region_code: '320115', to_region_code: '450102' }
  return server.call('POST', '/api/v1/si-transfers', { token, body, headers: { 'Idempotency-Key': `console-${code}` } })
}

/** A new worker of 兴宁区 reports two months of unpaid wages, with a contact phone; the report. */
export async function filedWageReport(server, code, idNumber, realName) {
  const token = await worker(server, code, idNumber, realName)
  const body = {
    employer_name: '兴宁某劳务公司',
    work_region_code: '450102',
    sector: 'construction',
    amount_owed_fen: 500000,
    owed_from: '2026-06-01',
    owed_to: '2026-09-30',
    workers_affected: 2,
    description: '两个月工资没发。',
    contact_phone: '13812345678',
  }
  return server.call('POST', '/api/v1/wage-reports', { token, body, headers: { 'Idempotency-Key': `console-${code}` } })
}

/** The card the paid worker gives, in clear as the bank file carries it, and masked. */
export const PAYEE_CARD = '6222021234567890128'
export const PAYEE_CARD_MASKED = '622202*********0128'

/**
 * An application of a new worker (`code`) whose applicant gave the bank card
 * it is paid to, approved by the reviewer whose token is `reviewerToken`; the
 * application.
 */
export async function approvedApplicationWithPayee(server, reviewerToken, code, idNumber, realName) {
  const application = await submittedApplication(server, code, idNumber, realName)
  // A sandbox login code always signs the same worker in.
  const { access_token: token } = await server.call('POST', '/api/v1/auth/wechat/login', { body: { code } })
  const account = { kind: 'bank_card', bank_name: '中国工商银行', account_number: PAYEE_CARD, consent_version: 'payee-2026-11' }
  await server.call('PUT', '/api/v1/me/payee-account', { token, body: account })
  const path = `/api/v1/staff/applications/${application.id}`
  const { version } = await server.call('GET', path, { token: reviewerToken })
  const started = await server.call('POST', `${path}/start-review`, { token: reviewerToken, body: { expected_version: version } })
  const approve = { decision: 'approve', expected_version: started.version, comment: '材料齐全' }
  await server.call('POST', `${path}/review`, { token: reviewerToken, body: approve })
  return application
}
