import { createRouter, createWebHistory } from 'vue-router'
import { hasRole, session, type Role } from './auth/session'

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
          meta: { title: '补贴审核', role: 'reviewer' },
        },
        {
          path: 'applications/:id',
          name: 'application',
          component: () => import('./pages/ReviewCasePage.vue'),
          props: true,
          meta: { title: '审核申请', role: 'reviewer' },
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
    /** The role a page is for; others are sent to the 工作台 (the API refuses them anyway). */
    role?: Role
  }
}

router.beforeEach((to) => {
  if (to.meta.public) return true
  if (!session.staff) return { name: 'signin', query: to.fullPath === '/' ? {} : { next: to.fullPath } }
  if (to.meta.role && !hasRole(to.meta.role)) return { name: 'dashboard' }
  return true
})

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · 市民化工作人员控制台` : '市民化工作人员控制台'
})
