import { onMounted, ref, watch, type ComputedRef, type Ref } from 'vue'
import { useRoute, useRouter, type LocationQueryRaw } from 'vue-router'
import { ApiProblem } from '../api/client'

/** A positive whole number from the address, or `fallback`. */
export function positive(value: unknown, fallback: number): number {
  const number = Number(value)
  return Number.isInteger(number) && number > 0 ? number : fallback
}

/**
 * Filters kept in the address (so back and reload keep them): `change`
 * merges a patch into the query, drops empty values and goes back to the
 * first page unless the patch names one.
 */
export function useAddressFilters() {
  const route = useRoute()
  const router = useRouter()
  function change(patch: LocationQueryRaw) {
    const query: LocationQueryRaw = { ...route.query, page: undefined, ...patch }
    for (const key of Object.keys(query)) if (query[key] === undefined || query[key] === '') delete query[key]
    void router.push({ query })
  }
  return { route, change }
}

/** One page of a list the server filters and pages, read again whenever the filters change (or `load` is called). */
export function useServerPage<F, T>(filters: ComputedRef<F>, fetch: (filters: F) => Promise<{ items: T[]; total: number }>) {
  const rows = ref([]) as Ref<T[]>
  const total = ref(0)
  const loading = ref(false)
  const failure = ref('')
  async function load() {
    loading.value = true
    failure.value = ''
    try {
      const page = await fetch(filters.value)
      rows.value = page.items
      total.value = page.total
    } catch (problem) {
      failure.value = problem instanceof ApiProblem ? problem.message : '读取失败，请稍后重试。'
    } finally {
      loading.value = false
    }
  }
  watch(filters, load)
  onMounted(load)
  return { rows, total, loading, failure, load }
}
