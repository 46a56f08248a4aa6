import { createRouter, createWebHistory } from 'vue-router'
import { session } from './auth/session'

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

router.beforeEach((to) => {
  if (to.meta.public || session.staff) return true
  return { name: 'signin', query: to.fullPath === '/' ? {} : { next: to.fullPath } }
})

router.afterEach((to) => {
  const title = typeof to.meta.title === 'string' ? to.meta.title : ''
  document.title = title ? `${title} · 市民化工作人员控制台` : '市民化工作人员控制台'
})
