import { api, ok } from './api/client'

const names = new Map<string, Promise<string | undefined>>()

/** The name of a region (GB/T 2260), read once per code; 000000 has none. */
export function regionName(code: string): Promise<string | undefined> {
  if (code === '000000') return Promise.resolve(undefined)
  let name = names.get(code)
  if (!name) {
    name = ok(api.GET('/api/v1/regions/{code}', { params: { path: { code } } }))
      .then((region) => region.name)
      .catch(() => undefined)
    names.set(code, name)
  }
  return name
}

/** The regions right under `code`, for a filter; none under a county. */
export async function subregions(code: string): Promise<{ code: string; name: string }[]> {
  const query = code === '000000' ? { page_size: 100 } : { parent: code, page_size: 100 }
  const page = await ok(api.GET('/api/v1/regions', { params: { query } }))
  return page.items.map((region) => ({ code: region.code, name: region.name }))
}
