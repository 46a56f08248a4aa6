import { createApp } from 'vue'
import 'element-plus/theme-chalk/base.css'
import 'element-plus/es/components/message/style/css'
import App from './App.vue'
import { router } from './router'
import './console.css'

createApp(App).use(router).mount('#app')
