import { ApiProblem } from '../api/problem'

/** What a failed sign-in says to the person signing in. */
export function signInFailure(problem: unknown): string {
  if (!(problem instanceof ApiProblem)) return '登录失败，请稍后重试。'
  switch (problem.code) {
    case 'INVALID_CREDENTIALS':
      return '用户名或密码不正确，请重新输入。连续输错多次，账号会被暂时锁定。'
    case 'ACCOUNT_LOCKED':
      return lockedFor(problem.retryAfter)
    case 'ACCOUNT_DISABLED':
      return '该账号已停用，请联系系统管理员。'
    case 'RATE_LIMITED':
      return `登录尝试太频繁，请${problem.retryAfter ? `${problem.retryAfter}秒后` : '稍后'}再试。`
    case 'VALIDATION_FAILED':
      return '请填写用户名和密码。'
    default:
      return problem.message
  }
}

function lockedFor(seconds: number | undefined): string {
  const wait = seconds ? `约${Math.max(1, Math.ceil(seconds / 60))}分钟后` : '稍后'
  return `登录失败次数太多，账号已暂时锁定，请${wait}再试。如需立即解锁，请联系系统管理员。`
}

/** Why the console asks to sign in again in the middle of work. */
export function sessionLost(code: string | undefined): string {
  switch (code) {
    case 'TOKEN_EXPIRED':
    case 'REFRESH_TOKEN_INVALID':
      return '登录已过期，请重新输入密码。您正在填写的内容不会丢失。'
    case 'SESSION_ENDED':
      return '长时间未操作，或账号已在别处退出，登录已失效。请重新输入密码，您正在填写的内容不会丢失。'
    default:
      return '需要重新登录。请输入密码，您正在填写的内容不会丢失。'
  }
}
