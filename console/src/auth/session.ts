import { reactive } from 'vue'
import type { components } from '../api/schema'
import { publicApi, ok } from '../api/public'
import { ApiProblem, problemCode } from '../api/problem'
import { sessionLost } from './messages'

export type StaffView = components['schemas']['StaffView']
export type Role = components['schemas']['Role']

/**
 * The tokens live in this module's memory only: never in localStorage,
 * sessionStorage or a cookie, so a script injected elsewhere cannot read them
 * and closing the tab ends the session. Reloading the page asks to sign in.
 */
let tokens: { access: string; refresh: string } | null = null

/** A request to sign in again over the page, while work waits. */
interface Reauthentication {
  reason: string
  username: string
}

export const session = reactive<{ staff: StaffView | null; reauth: Reauthentication | null }>({
  staff: null,
  reauth: null,
})

let waiting: { resolve: () => void; reject: (reason: unknown) => void }[] = []
let refreshing: Promise<boolean> | null = null

export function hasRole(role: Role): boolean {
  return session.staff?.roles.includes(role) ?? false
}

export async function signIn(username: string, password: string): Promise<StaffView> {
  const signedIn = await ok(publicApi.POST('/api/v1/staff/auth/login', { body: { username, password } }))
  tokens = { access: signedIn.access_token, refresh: signedIn.refresh_token }
  session.staff = signedIn.staff
  return signedIn.staff
}

/** Signs in again from the dialog: the same member, so the work goes on as theirs. */
export async function reauthenticate(password: string): Promise<void> {
  const username = session.reauth?.username ?? session.staff?.username ?? ''
  await signIn(username, password)
  session.reauth = null
  const resumed = waiting
  waiting = []
  resumed.forEach((w) => w.resolve())
}

/** Gives up the work waiting on a sign-in and signs out. */
export function abandonReauthentication(): void {
  const abandoned = waiting
  waiting = []
  session.reauth = null
  abandoned.forEach((w) => w.reject(new ApiProblem(401, 'SIGNED_OUT', '已退出登录。')))
  forget()
}

export async function signOut(): Promise<void> {
  const access = tokens?.access
  forget()
  if (access) {
    await publicApi.POST('/api/v1/auth/logout', { headers: { Authorization: `Bearer ${access}` } }).catch(() => undefined)
  }
}

function forget(): void {
  tokens = null
  session.staff = null
}

/** Exchanges the refresh token once, however many requests found the token expired. */
function refreshTokens(): Promise<boolean> {
  const refresh = tokens?.refresh
  if (!refresh) return Promise.resolve(false)
  refreshing ??= ok(publicApi.POST('/api/v1/auth/refresh', { body: { refresh_token: refresh } }))
    .then((pair) => {
      tokens = { access: pair.access_token, refresh: pair.refresh_token }
      return true
    })
    .catch(() => false)
    .finally(() => {
      refreshing = null
    })
  return refreshing
}

function askToSignInAgain(code: string | undefined): Promise<void> {
  session.reauth ??= { reason: sessionLost(code), username: session.staff?.username ?? '' }
  return new Promise((resolve, reject) => waiting.push({ resolve, reject }))
}

function send(request: Request): Promise<Response> {
  const headers = new Headers(request.headers)
  if (tokens) headers.set('Authorization', `Bearer ${tokens.access}`)
  return fetch(new Request(request, { headers }))
}

/**
 * The fetch of the staff API: on a 401 it refreshes the tokens, or asks to
 * sign in again over the page (what is being typed stays where it is), then
 * sends the same request again.
 */
export async function authorizedFetch(request: Request): Promise<Response> {
  const original = request.clone()
  const response = await send(request)
  if (response.status !== 401) return response
  const code = await problemCode(response)
  if (code === 'TOKEN_EXPIRED' && (await refreshTokens())) {
    const retried = await send(original.clone())
    if (retried.status !== 401) return retried
  }
  await askToSignInAgain(code)
  return send(original.clone())
}
