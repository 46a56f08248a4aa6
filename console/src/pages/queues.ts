import { api, ok } from '../api/client'
import type { Role } from '../auth/session'
import type { RouteLocationRaw } from 'vue-router'

/** One queue of the 工作台: how many wait, and how many of them are late. */
export interface Queue {
  title: string
  roles: Role[]
  count: () => Promise<number>
  /** Late cases, for queues with a deadline the API tracks. */
  overdue?: () => Promise<number>
  /** The page that works the queue, once the console has it. */
  link?: RouteLocationRaw
}

const one = { page: 1, page_size: 1 } as const

/** Totals read from the list endpoints themselves, one row a page. */
export const queues: Queue[] = [
  {
    title: '待审核的补贴申请',
    roles: ['reviewer'],
    count: async () =>
      (await ok(api.GET('/api/v1/staff/applications', { params: { query: { ...one, status: 'submitted' } } }))).total,
    link: { name: 'applications', query: { status: 'submitted' } },
  },
  {
    title: '审核中的补贴申请',
    roles: ['reviewer'],
    count: async () =>
      (await ok(api.GET('/api/v1/staff/applications', { params: { query: { ...one, status: 'under_review' } } }))).total,
    link: { name: 'applications', query: { status: 'under_review' } },
  },
  {
    title: '待发放的补贴',
    roles: ['finance'],
    count: async () => (await ok(api.GET('/api/v1/staff/payable-applications', { params: { query: one } }))).total,
    link: { name: 'payments' },
  },
  {
    title: '待受理的欠薪线索',
    roles: ['inspector'],
    count: async () =>
      (await ok(api.GET('/api/v1/staff/wage-reports', { params: { query: { ...one, status: 'submitted' } } }))).total,
    overdue: async () =>
      (await ok(api.GET('/api/v1/staff/wage-reports', { params: { query: { ...one, overdue: true } } }))).total,
    link: { name: 'wage-reports', query: { status: 'submitted' } },
  },
  {
    title: '办理中的社保转移',
    roles: ['admin', 'reviewer', 'inspector'],
    count: async () =>
      (await ok(api.GET('/api/v1/staff/si-transfers', { params: { query: { ...one, status: 'in_progress' } } }))).total,
    overdue: async () =>
      (await ok(api.GET('/api/v1/staff/si-transfers', { params: { query: { ...one, overdue: true } } }))).total,
    link: { name: 'transfers', query: { status: 'in_progress' } },
  },
]
