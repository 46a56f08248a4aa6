import type { Schemas } from '../api/client'

type Decision = Schemas['DecisionName']

/** The decision a reviewer is writing, before it is sent. */
export interface DecisionDraft {
  decision: Decision
  amountYuan: number | undefined
  comment: string
}

/** What is wrong with a draft, in the reviewer's words; none when it can be sent. */
export function draftProblem(draft: DecisionDraft, requestedFen: number | undefined): string | undefined {
  const comment = draft.comment.trim()
  if (draft.decision !== 'approve' && !comment) {
    return draft.decision === 'return' ? '退回补正时，请写明需要申请人补充或更正的内容。' : '不予批准时，请写明理由。'
  }
  if (comment.length > 1000) return '意见最多1000字。'
  if (draft.decision === 'approve') {
    const fen = toFen(draft.amountYuan)
    if (fen === undefined || fen < 1) return '请填写批准金额（元）。'
    if (requestedFen !== undefined && fen > requestedFen) return '批准金额不能超过按规则核定的申请金额。'
  }
  return undefined
}

export function toFen(yuan: number | undefined): number | undefined {
  return yuan === undefined || Number.isNaN(yuan) ? undefined : Math.round(yuan * 100)
}

/** The body of POST …/review for a draft that passed `draftProblem`. */
export function reviewBody(draft: DecisionDraft, version: number): Schemas['ReviewBody'] {
  const comment = draft.comment.trim()
  return {
    decision: draft.decision,
    expected_version: version,
    ...(comment ? { comment } : {}),
    ...(draft.decision === 'approve' ? { approved_amount_fen: toFen(draft.amountYuan) } : {}),
  }
}

/** Renders an answer of the application form for reading. */
export function answerText(value: unknown): string {
  if (value === true) return '是'
  if (value === false) return '否'
  if (value === null || value === undefined || value === '') return '—'
  if (Array.isArray(value)) return value.map(answerText).join('、')
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
