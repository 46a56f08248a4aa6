import type { components } from './api/schema'

type Schemas = components['schemas']

export const roleNames: Record<Schemas['Role'], string> = {
  admin: '系统管理员',
  reviewer: '补贴审核',
  inspector: '劳动监察',
  policy_editor: '政策编辑',
  finance: '资金发放',
  personal_data: '个人信息查阅',
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
