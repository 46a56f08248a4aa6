import { ApiProblem } from '../api/client'

/** What to tell the administrator when a call failed: the API's own Chinese message when it answered. */
export function failureText(problem: unknown, fallback = '操作失败，请稍后重试。'): string {
  return problem instanceof ApiProblem ? problem.message : fallback
}

/** The instant a day (YYYY-MM-DD) begins in China time, as the API's date-time filters take it. */
export function chinaDayStart(day: string, daysLater = 0): string {
  const start = new Date(`${day}T00:00:00+08:00`)
  start.setUTCDate(start.getUTCDate() + daysLater)
  return start.toISOString()
}

/** The file name a download's Content-Disposition gives (RFC 6266, UTF-8 form first). */
export function attachmentName(disposition: string | null, fallback: string): string {
  const encoded = disposition?.match(/filename\*=UTF-8''([^;]+)/i)
  if (encoded?.[1]) return decodeURIComponent(encoded[1])
  const plain = disposition?.match(/filename="?([^";]+)"?/i)
  return plain?.[1] ?? fallback
}

/** Hands a downloaded body to the browser as a file (the token stays in the request's header, never in an address). */
export function saveFile(body: Blob, name: string): void {
  const address = URL.createObjectURL(body)
  const link = document.createElement('a')
  link.href = address
  link.download = name
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(address), 10_000)
}
