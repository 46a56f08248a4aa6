import type { FormItemRule, FormRules } from 'element-plus'
import type { Schemas } from '../api/client'

type PolicyView = Schemas['PolicyView']

/** A policy as its editor writes it: every input's text, before it is sent. */
export interface PolicyDraft {
  title: string
  summary: string
  body: string
  category: Schemas['PolicyCategory'] | ''
  region_code: string
  issuer: string
  doc_number: string
  issued_on: string
  effective_from: string
  effective_until: string
  source_url: string
  /** Words separated by commas, 、 or spaces. */
  tags: string
  audience_tags: string
  /** Kept as read: the page does not change which policy this one implements. */
  parent_id: string
}

export function emptyDraft(region: string): PolicyDraft {
  return {
    title: '',
    summary: '',
    body: '',
    category: '',
    region_code: region,
    issuer: '',
    doc_number: '',
    issued_on: '',
    effective_from: '',
    effective_until: '',
    source_url: '',
    tags: '',
    audience_tags: '',
    parent_id: '',
  }
}

export function draftOf(policy: PolicyView): PolicyDraft {
  return {
    title: policy.title,
    summary: policy.summary,
    body: policy.body,
    category: policy.category,
    region_code: policy.region_code,
    issuer: policy.issuer,
    doc_number: policy.doc_number ?? '',
    issued_on: policy.issued_on ?? '',
    effective_from: policy.effective_from ?? '',
    effective_until: policy.effective_until ?? '',
    source_url: policy.source_url ?? '',
    tags: policy.tags.join('、'),
    audience_tags: policy.audience_tags.join('、'),
    parent_id: policy.parent_id ?? '',
  }
}

export function words(text: string): string[] {
  return text.split(/[,，、;；\s]+/).filter(Boolean)
}

/** The body of POST /staff/policies (and, with `expected_version`, of PUT) for a draft that passed the rules. */
export function policyWrite(draft: PolicyDraft): Schemas['PolicyWrite'] {
  const optional = (value: string) => value.trim() || undefined
  return {
    title: draft.title.trim(),
    summary: draft.summary.trim(),
    body: draft.body,
    category: draft.category as Schemas['PolicyCategory'],
    region_code: draft.region_code.trim(),
    issuer: draft.issuer.trim(),
    doc_number: optional(draft.doc_number),
    issued_on: optional(draft.issued_on),
    effective_from: optional(draft.effective_from),
    effective_until: optional(draft.effective_until),
    source_url: optional(draft.source_url),
    tags: words(draft.tags),
    audience_tags: words(draft.audience_tags),
    parent_id: optional(draft.parent_id),
  }
}

function required(message: string, trigger = 'blur'): FormItemRule {
  return { required: true, whitespace: true, message, trigger }
}

function longest(max: number, what: string): FormItemRule {
  return { max, message: `${what}最多${max}字。`, trigger: 'blur' }
}

function wordList(count: number, length: number, what: string): FormItemRule {
  return {
    trigger: 'blur',
    validator: (_rule, value: string, callback) => {
      const list = words(value)
      if (list.length > count || list.some((word) => word.length > length)) {
        callback(new Error(`${what}最多${count}个，每个不超过${length}字。`))
      } else callback()
    },
  }
}

/** The API's limits (PolicyWrite), checked before sending and said in Chinese. */
export function policyRules(draft: PolicyDraft): FormRules<PolicyDraft> {
  return {
    title: [required('请填写标题。'), longest(200, '标题')],
    summary: [required('请填写摘要：用简单的话说明能得到什么、要怎么办。'), longest(1000, '摘要')],
    body: [required('请填写正文。'), longest(20000, '正文')],
    category: [required('请选择类别。', 'change')],
    region_code: [
      required('请填写适用地区的代码。'),
      { pattern: /^\d{6}$/, message: '地区代码是6位数字，全国性政策填 000000。', trigger: 'blur' },
    ],
    issuer: [required('请填写发文机关。'), longest(200, '发文机关')],
    doc_number: [longest(100, '文号')],
    source_url: [{ pattern: /^https?:\/\/\S{1,490}$/, message: '原文链接应以 http:// 或 https:// 开头，且不含空格。', trigger: 'blur' }],
    effective_until: [
      {
        trigger: 'change',
        validator: (_rule, value: string, callback) => {
          if (value && draft.effective_from && value < draft.effective_from) callback(new Error('失效日期不能早于生效日期。'))
          else callback()
        },
      },
    ],
    tags: [wordList(12, 20, '搜索标签')],
    audience_tags: [wordList(8, 40, '适用人群')],
  }
}
