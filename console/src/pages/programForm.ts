import type { FormItemRule, FormRules } from 'element-plus'
import type { Schemas } from '../api/client'

type Program = Schemas['StaffProgramView']

/**
 * A program as its administrator writes it. Documents are rows; the criteria,
 * amount rule and application form are JSON text (their schemas nest, see
 * ProgramWrite), parsed before sending.
 */
export interface ProgramDraft {
  name: string
  kind: Schemas['ProgramKind'] | ''
  region_code: string
  description: string
  opens_on: string
  closes_on: string
  period: string
  budgetYuan: number | undefined
  quota: number | undefined
  documents: { kind: string; label: string }[]
  criteria: string
  amount_rule: string
  form_fields: string
  /** Kept as read: the page does not change which policy the program carries out. */
  policy_id: string
}

const pretty = (value: unknown) => JSON.stringify(value, null, 2)

export function emptyProgram(region: string): ProgramDraft {
  return {
    name: '',
    kind: '',
    region_code: region,
    description: '',
    opens_on: '',
    closes_on: '',
    period: String(new Date().getFullYear()),
    budgetYuan: undefined,
    quota: undefined,
    documents: [{ kind: 'id_card', label: '身份证正反面照片' }],
    criteria: '[]',
    amount_rule: pretty({ type: 'fixed', amount_fen: 100000 }),
    form_fields: '[]',
    policy_id: '',
  }
}

export function programDraftOf(program: Program): ProgramDraft {
  return {
    name: program.name,
    kind: program.kind,
    region_code: program.region_code,
    description: program.description,
    opens_on: program.opens_on ?? '',
    closes_on: program.closes_on ?? '',
    period: program.period,
    budgetYuan: program.budget_fen === undefined ? undefined : program.budget_fen / 100,
    quota: program.quota,
    documents: program.required_documents.map(({ kind, label }) => ({ kind, label })),
    criteria: pretty(program.criteria.map((criterion) => criterion.rule)),
    amount_rule: pretty(program.amount_rule),
    form_fields: pretty(program.form_fields),
    policy_id: program.policy_id ?? '',
  }
}

/** The JSON of a rule input, or the Chinese reason it is not JSON of the expected shape. */
export function parsedRule(text: string, list: boolean): { value: unknown } | { problem: string } {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { problem: '不是有效的 JSON，请检查括号、引号和逗号。' }
  }
  if (list !== Array.isArray(value) || (!list && (typeof value !== 'object' || value === null))) {
    return { problem: list ? '应为 JSON 数组：[ … ]。' : '应为 JSON 对象：{ … }。' }
  }
  return { value }
}

function ruleInput(list: boolean): FormItemRule {
  return {
    trigger: 'blur',
    validator: (_rule, text: string, callback) => {
      const parsed = parsedRule(text, list)
      if ('problem' in parsed) callback(new Error(parsed.problem))
      else callback()
    },
  }
}

/** The body of POST /staff/programs (and, with `expected_version`, of PUT) for a draft that passed the rules. */
export function programWrite(draft: ProgramDraft): Schemas['ProgramWrite'] {
  const value = (text: string, list: boolean) => {
    const parsed = parsedRule(text, list)
    return 'value' in parsed ? parsed.value : undefined
  }
  const optional = (text: string) => text.trim() || undefined
  return {
    name: draft.name.trim(),
    kind: draft.kind as Schemas['ProgramKind'],
    region_code: draft.region_code.trim(),
    description: draft.description.trim(),
    policy_id: optional(draft.policy_id),
    opens_on: optional(draft.opens_on),
    closes_on: optional(draft.closes_on),
    period: draft.period.trim(),
    budget_fen: draft.budgetYuan === undefined || draft.budgetYuan === null ? undefined : Math.round(draft.budgetYuan * 100),
    quota: draft.quota ?? undefined,
    required_documents: draft.documents.map((row) => ({ kind: row.kind.trim(), label: row.label.trim() })),
    criteria: value(draft.criteria, true),
    amount_rule: value(draft.amount_rule, false),
    form_fields: value(draft.form_fields, true),
  }
}

function required(message: string, trigger = 'blur'): FormItemRule {
  return { required: true, whitespace: true, message, trigger }
}

/** The API's limits (ProgramWrite), checked before sending and said in Chinese. */
export function programRules(draft: ProgramDraft): FormRules<ProgramDraft> {
  return {
    name: [required('请填写项目名称。'), { max: 200, message: '项目名称最多200字。', trigger: 'blur' }],
    kind: [required('请选择补贴类型。', 'change')],
    region_code: [
      required('请填写项目所属地区的代码。'),
      { pattern: /^\d{6}$/, message: '地区代码是6位数字。', trigger: 'blur' },
    ],
    description: [required('请填写项目说明。'), { max: 4000, message: '项目说明最多4000字。', trigger: 'blur' }],
    period: [required('请填写申请周期，例如 2026。'), { max: 16, message: '申请周期最多16字。', trigger: 'blur' }],
    closes_on: [
      {
        trigger: 'change',
        validator: (_rule, value: string, callback) => {
          if (value && draft.opens_on && value < draft.opens_on) callback(new Error('截止日期不能早于开始日期。'))
          else callback()
        },
      },
    ],
    documents: [
      {
        trigger: 'blur',
        validator: (_rule, rows: ProgramDraft['documents'], callback) => {
          if (rows.some((row) => !row.kind.trim() || !row.label.trim())) callback(new Error('每份材料都要填写代码和名称。'))
          else callback()
        },
      },
    ],
    criteria: [ruleInput(true)],
    amount_rule: [ruleInput(false)],
    form_fields: [ruleInput(true)],
  }
}
