import { createRouter, createWebHistory } from 'vue-router'
import { hasRole, session, type Role } from './auth/session'

/** The staff who follow their region's transfers (the API's rule). */
const TRANSFER_FOLLOWERS: Role[] = ['admin', 'reviewer', 'inspector']

/** The 系统管理 pages, for administrators alone; the menu lists them in this order. */
export const ADMIN_PAGES = [
  { path: 'staff', title: '工作人员账号', component: () => import('./pages/AdminStaffPage.vue') },
  { path: 'clients', title: '对接系统', component: () => import('./pages/AdminClientsPage.vue') },
  { path: 'calendar', title: '工作日历', component: () => import('./pages/AdminCalendarPage.vue') },
  { path: 'audit', title: '审计日志', component: () => import('./pages/AdminAuditPage.vue') },
  { path: 'exports', title: '数据导出', component: () => import('./pages/AdminExportsPage.vue') },
]

export const router = createRouter({
  history: createWebHistory('/console/'),
  routes: [
    { path: '/signin', name: 'signin', component: () => import('./pages/SignInPage.vue'), meta: { public: true, title: '登录' } },
    {
      path: '/',
      component: () => import('./layout/ConsoleLayout.vue'),
      children: [
        { path: '', name: 'dashboard', component: () => import('./pages/DashboardPage.vue'), meta: { title: '工作台' } },
        {
          path: 'applications',
          name: 'applications',
          component: () => import('./pages/ReviewQueuePage.vue'),
          meta: { title: '补贴审核', roles: ['reviewer'] },
        },
        {
          path: 'applications/:id',
          name: 'application',
          component: () => import('./pages/ReviewCasePage.vue'),
          props: true,
          meta: { title: '审核申请', roles: ['reviewer'] },
        },
        {
          path: 'payments',
          name: 'payments',
          component: () => import('./pages/PaymentsPage.vue'),
          meta: { title: '资金发放', roles: ['finance'] },
        },
        {
          path: 'payments/:id',
          name: 'payment-batch',
          component: () => import('./pages/PaymentBatchPage.vue'),
          props: true,
          meta: { title: '发放批次', roles: ['finance'] },
        },
        {
          path: 'wage-reports',
          name: 'wage-reports',
          component: () => import('./pages/WageQueuePage.vue'),
          meta: { title: '欠薪线索', roles: ['inspector'] },
        },
        {
          path: 'wage-reports/:id',
          name: 'wage-report',
          component: () => import('./pages/WageCasePage.vue'),
          props: true,
          meta: { title: '欠薪线索', roles: ['inspector'] },
        },
        {
          path: 'transfers',
          name: 'transfers',
          component: () => import('./pages/TransferQueuePage.vue'),
          meta: { title: '社保转移', roles: TRANSFER_FOLLOWERS },
        },
        {
          path: 'transfers/:id',
          name: 'transfer',
          component: () => import('./pages/TransferCasePage.vue'),
          props: true,
          meta: { title: '社保转移', roles: TRANSFER_FOLLOWERS },
        },
        ...ADMIN_PAGES.map(({ path, title, component }) => ({ path: `admin/${path}`, name: `admin-${path}`, component, meta: { title, roles: ['admin'] as Role[] } })),
        {
          path: 'policies',
          name: 'policies',
          component: () => import('./pages/PoliciesPage.vue'),
          meta: { title: '政策管理', roles: ['policy_editor'] },
        },
        {
          path: 'policies/new',
          name: 'policy-new',
          component: () => import('./pages/PolicyEditPage.vue'),
          meta: { title: '新建政策', roles: ['policy_editor'] },
        },
        {
          path: 'policies/:id',
          name: 'policy',
          component: () => import('./pages/PolicyEditPage.vue'),
          props: true,
          meta: { title: '编辑政策', roles: ['policy_editor'] },
        },
        {
          path: 'programs',
          name: 'programs',
          component: () => import('./pages/ProgramsPage.vue'),
          meta: { title: '补贴项目', roles: ['admin'] },
        },
        {
          path: 'programs/new',
          name: 'program-new',
          component: () => import('./pages/ProgramEditPage.vue'),
          meta: { title: '新建补贴项目', roles: ['admin'] },
        },
        {
          path: 'programs/:id',
          name: 'program',
          component: () => import('./pages/ProgramEditPage.vue'),
          props: true,
          meta: { title: '补贴项目', roles: ['admin'] },
        },
      ],
    },
    { path: '/:unknown(.*)*', redirect: { name: 'dashboard' } },
  ],
})

declare module 'vue-router' {
  interface RouteMeta {
    title?: string
    /** Signing in is not needed. */
    public?: boolean
    /** The roles a page is for; others are sent to the 工作台 (the API refuses them anyway). */
    roles?: Role[]
  }
}

router.beforeEach((to) => {
  if (to.meta.public) return true
  if (!session.staff) return { name: 'signin', query: to.fullPath === '/' ? {} : { next: to.fullPath } }
  if (to.meta.roles && !to.meta.roles.some(hasRole)) return { name: 'dashboard' }
  return true
})

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · 市民化工作人员控制台` : '市民化工作人员控制台'
})
