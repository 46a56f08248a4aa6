import createClient from 'openapi-fetch'
import type { paths } from './schema'
import { ApiProblem } from './problem'

/** Calls that carry no token of the console's: signing in, refreshing, signing out. */
export const publicApi = createClient<paths>({ baseUrl: window.location.origin })

type Outcome<D> = { data?: D; error?: unknown; response: Response }

/** The body of a successful call; a refusal or a network failure as an ApiProblem. */
export async function ok<D>(pending: Promise<Outcome<D>>): Promise<D> {
  let outcome: Outcome<D>
  try {
    outcome = await pending
  } catch (failure) {
    if (failure instanceof ApiProblem) throw failure
    throw ApiProblem.unreachable()
  }
  if (!outcome.response.ok) throw ApiProblem.from(outcome.response, outcome.error)
  return outcome.data as D
}
