import type { components } from './schema'

export type Problem = components['schemas']['Problem']

/** A refusal of the API (a problem body), or a failure to reach it at all. */
export class ApiProblem extends Error {
  readonly status: number
  readonly code: string
  readonly details: unknown
  /** Seconds the server asks to wait (Retry-After), when it said. */
  readonly retryAfter: number | undefined

  constructor(status: number, code: string, message: string, details?: unknown, retryAfter?: number) {
    super(message)
    this.name = 'ApiProblem'
    this.status = status
    this.code = code
    this.details = details
    this.retryAfter = retryAfter
  }

  /**
   * What the API said of each field (`details.fields`: a 400 or 422 naming
   * the fields it refused, by path, in Chinese); empty when it named none.
   */
  fieldMessages(): { field: string; message: string }[] {
    const fields = (this.details as { fields?: unknown } | undefined)?.fields
    if (!Array.isArray(fields)) return []
    return fields
      .filter((f): f is { field: string; zh: string } => typeof f?.field === 'string' && typeof f?.zh === 'string')
      .map((f) => ({ field: f.field, message: f.zh }))
  }

  static unreachable(): ApiProblem {
    return new ApiProblem(0, 'UNREACHABLE', '无法连接服务器，请检查网络后重试。')
  }

  static from(response: Response, body: unknown): ApiProblem {
    const retry = Number(response.headers.get('retry-after'))
    const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : undefined
    if (isProblem(body)) {
      return new ApiProblem(response.status, body.code, body.message, body.details, retryAfter)
    }
    return new ApiProblem(response.status, 'UNEXPECTED', `服务器返回了意外的结果（${response.status}），请稍后重试。`, undefined, retryAfter)
  }
}

function isProblem(body: unknown): body is Problem {
  return typeof body === 'object' && body !== null && typeof (body as Problem).code === 'string' && typeof (body as Problem).message === 'string'
}

/** The code of a problem response, without consuming it. */
export async function problemCode(response: Response): Promise<string | undefined> {
  try {
    const body: unknown = await response.clone().json()
    return isProblem(body) ? body.code : undefined
  } catch {
    return undefined
  }
}
