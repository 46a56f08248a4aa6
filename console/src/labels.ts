import type { components } from './api/schema'

type Schemas = components['schemas']

export const roleNames: Record<Schemas['Role'], string> = {
  admin: '系统管理员',
  reviewer: '补贴审核',
  inspector: '劳动监察',
  policy_editor: '政策编辑',
  finance: '资金发放',
  personal_data: '个人信息查阅',
  service_window: '窗口代办',
}

export const applicationStatusNames: Record<Schemas['ApplicationStatus'], string> = {
  draft: '草稿',
  submitted: '已提交',
  under_review: '审核中',
  returned: '已退回补正',
  approved: '已批准',
  rejected: '不予批准',
  withdrawn: '已撤回',
  disbursed: '已发放',
}

export const decisionNames: Record<Schemas['DecisionName'], string> = {
  approve: '批准',
  return: '退回补正',
  reject: '不予批准',
}

type TagType = 'primary' | 'success' | 'info' | 'warning' | 'danger'

export function applicationStatusTag(status: Schemas['ApplicationStatus']): TagType {
  switch (status) {
    case 'approved':
    case 'disbursed':
      return 'success'
    case 'rejected':
      return 'danger'
    case 'returned':
    case 'under_review':
      return 'warning'
    case 'submitted':
      return 'primary'
    default:
      return 'info'
  }
}

const dateTime = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
})

export function formatInstant(instant: string | undefined): string {
  return instant ? dateTime.format(new Date(instant)) : '—'
}

export function formatYuan(yuan: string | undefined): string {
  return yuan ? `${yuan} 元` : '—'
}

/** A region's name as staff read it; 000000 is the whole country. */
export function regionLabel(code: string, name: string | undefined): string {
  if (code === '000000') return '全国'
  return name ? `${name}（${code}）` : code
}

export const transferStatusNames: Record<Schemas['TransferStatus'], string> = {
  in_progress: '办理中',
  completed: '已办结',
  refused: '不予办理',
  cancelled: '已取消',
}

export function transferStatusTag(status: Schemas['TransferStatus']): TagType {
  switch (status) {
    case 'completed':
      return 'success'
    case 'refused':
      return 'danger'
    case 'in_progress':
      return 'primary'
    default:
      return 'info'
  }
}

export const insuranceNames: Record<Schemas['InsuranceType'], string> = {
  pension: '养老保险',
  medical: '医疗保险',
  unemployment: '失业保险',
}

/** A step's status as the API gives it (`pending`, `done`, …). */
export const stepStatusNames: Record<string, string> = {
  pending: '待办理',
  done: '已办结',
  materials_needed: '待补材料',
  refused: '不予办理',
  cancelled: '已取消',
}

export const stepOutcomeNames: Record<Schemas['StepOutcome'], string> = {
  done: '办结',
  materials_needed: '需补充材料',
  refused: '不予办理',
  cancelled: '取消',
}

/** What a change of a transfer's history was (`TransferEventView.kind`). */
export const transferEventNames: Record<string, string> = {
  created: '提出申请',
  step: '环节办结',
  refused: '不予办理',
  materials_needed: '要求补充材料',
  materials_answered: '补充了材料',
  cancelled: '取消',
}

export const verificationNames: Record<Schemas['Verification'], string> = {
  self_declared: '本人填写',
  proven: '已核验',
  wechat: '微信验证',
  agency: '经办机构登记',
}

export const reportStatusNames: Record<Schemas['ReportStatus'], string> = {
  submitted: '待受理',
  accepted: '已受理',
  refused: '不予受理',
  info_requested: '待补充材料',
  in_progress: '调查处理中',
  resolved: '已处理',
  closed: '已结案',
}

export const inspectorActionNames: Record<Schemas['InspectorAction'], string> = {
  accept: '受理',
  refuse: '不予受理',
  request_info: '要求补充材料',
  start: '开始调查处理',
  resolve: '处理完毕',
  transfer: '移交其他县区',
  close: '结案',
  extend: '延长期限（一次）',
}

/** Kinds of evidence workers usually attach; any other kind shows as given. */
export const evidenceNames: Record<string, string> = {
  pay_slip: '工资条',
  labor_contract: '劳动合同',
  attendance: '考勤记录',
  chat_record: '聊天记录',
  photo: '现场照片',
  id_card: '身份证',
}

export const closeReasonNames: Record<Schemas['CloseReason'], string> = {
  unfounded: '查无实据',
  withdrawn: '反映人撤回',
  sent_to_arbitration: '转劳动人事争议仲裁',
}

export function formatFen(fen: number | undefined): string {
  return fen === undefined ? '—' : `${(fen / 100).toFixed(2)} 元`
}

/** What the bank answered for one payment of a batch. */
export const lineOutcomeNames: Record<Schemas['LineOutcome'], string> = {
  pending: '待银行回复',
  paid: '已支付',
  returned: '已退回',
}

export function lineOutcomeTag(outcome: Schemas['LineOutcome']): TagType {
  switch (outcome) {
    case 'paid':
      return 'success'
    case 'returned':
      return 'danger'
    default:
      return 'warning'
  }
}

export const scopeNames: Record<Schemas['Scope'], string> = {
  'si_transfer:read': '查询社保转移',
  'si_transfer:write': '办理社保转移',
}

export const dayKindNames: Record<Schemas['DayKind'], string> = {
  holiday: '放假',
  workday: '调休上班',
}

/** Who did an audited thing (`AuditRecord.actor_type`). */
export const actorTypeNames: Record<string, string> = {
  staff: '工作人员',
  worker: '劳动者',
  integrator: '对接系统',
  anonymous: '未登录',
  system: '系统',
}

/** The audited actions an administrator looks for, by the API's stable names. */
export const auditActionNames: Record<string, string> = {
  'staff.login': '工作人员登录',
  'staff.create': '创建工作人员账号',
  'staff.change': '修改工作人员账号',
  'client.create': '创建对接系统',
  'client.rotate': '轮换对接系统密钥',
  'client.revoke': '吊销对接系统',
  'client.token': '对接系统取得令牌',
  'calendar.set': '设置节假日',
  'calendar.clear': '清除节假日',
  'session.logout': '退出登录',
  'session.refresh_token_reused': '刷新令牌被重复使用',
  'personal_data.reveal': '查看个人信息',
  'document.download': '下载材料',
  'export.applications': '导出补贴申请',
  'export.wage_reports': '导出欠薪线索',
  'application.create': '创建补贴申请',
  'application.edit': '修改补贴申请',
  'application.transition': '补贴申请状态变更',
  'application.link': '代办申请关联到本人账号',
  'application.claim': '认领窗口代办申请',
  'window.consent_code.send': '发送代办确认码',
  'window.consent_code.use': '代办确认码不正确',
  'certificate.fetch': '查询电子证照',
  'application.approve': '批准补贴申请',
  'application.reject': '驳回补贴申请',
  'payment_batch.create': '生成发放批次',
  'payment_batch.export': '导出发放文件',
  'payee_account.save': '保存收款账户',
  'wage_report.submit': '提交欠薪线索',
  'wage_report.supplement': '补充欠薪线索材料',
  'wage_report.action': '处理欠薪线索',
  'wage_report.accept': '受理欠薪线索',
  'si_transfer.open': '发起社保转移',
  'si_transfer.step': '办结社保转移环节',
  'si_transfer.claim': '认领社保转移',
  'si_transfer.link': '关联社保转移',
  'si_transfer.materials_answered': '补充社保转移材料',
  'program.create': '创建补贴项目',
  'program.update': '修改补贴项目',
  'program.open': '开放补贴项目',
  'program.close': '关闭补贴项目',
  'policy.create': '创建政策',
  'policy.update': '修改政策',
  'policy.publish': '发布政策',
  'policy.archive': '归档政策',
  'worker.login': '劳动者登录',
  'worker.identity.verify': '劳动者实名核验',
  'worker.profile.update': '劳动者修改资料',
  'worker.phone.bind': '劳动者绑定手机',
  'worker.data.export': '劳动者导出个人数据',
  'worker.close': '劳动者注销账号',
  'worker.id_number.release': '释放身份证号',
  'retention.purge': '到期数据清除',
  'crypto.rekey': '更换加密密钥',
}

export const auditOutcomeNames: Record<string, string> = {
  success: '成功',
  failure: '失败',
  denied: '被拒绝',
}

export const policyStatusNames: Record<Schemas['PolicyStatus'], string> = {
  draft: '草稿',
  published: '已发布',
  archived: '已归档',
}

export function policyStatusTag(status: Schemas['PolicyStatus']): TagType {
  return status === 'published' ? 'success' : status === 'draft' ? 'warning' : 'info'
}

export const policyCategoryNames: Record<Schemas['PolicyCategory'], string> = {
  employment: '就业',
  entrepreneurship: '创业',
  training: '职业培训',
  wage_rights: '工资权益',
  social_insurance: '社会保险',
  education: '子女教育',
  housing: '住房',
  hukou: '落户',
  public_service: '公共服务',
}

/** What a change of a policy was (`PolicyVersionView.action`). */
export const policyActionNames: Record<string, string> = {
  create: '创建草稿',
  update: '修改',
  publish: '发布',
  archive: '归档',
}

export const programStatusNames: Record<Schemas['ProgramStatus'], string> = {
  draft: '草稿',
  open: '受理中',
  closed: '已关闭',
}

export function programStatusTag(status: Schemas['ProgramStatus']): TagType {
  return status === 'open' ? 'success' : status === 'draft' ? 'warning' : 'info'
}

export const programKindNames: Record<Schemas['ProgramKind'], string> = {
  training_subsidy: '职业培训补贴',
  startup_subsidy: '一次性创业补贴',
  startup_loan_interest: '创业担保贷款贴息',
  rent_subsidy: '场地租金补贴',
  employment_subsidy: '就业补贴',
}
