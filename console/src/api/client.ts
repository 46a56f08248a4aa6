import createClient from 'openapi-fetch'
import type { components, paths } from './schema'
import { authorizedFetch } from '../auth/session'

export { ok } from './public'
export { ApiProblem } from './problem'

export type Schemas = components['schemas']

/**
 * The staff API, typed from openapi/openapi.json (`npm run gen:api`): a change
 * of the contract that breaks a page fails `vue-tsc --noEmit`. Every request
 * carries the signed-in member's token; a 401 refreshes it or asks to sign in
 * again over the page, then retries (see auth/session.ts).
 */
export const api = createClient<paths>({ baseUrl: window.location.origin, fetch: authorizedFetch })
