import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

// The bundle is served by the binary at /console/ and committed in dist/,
// which the binary embeds; `npm run dev` proxies the API to a local server.
export default defineConfig({
  base: '/console/',
  plugins: [
    vue(),
    // Element Plus components and their styles are imported where a template
    // uses them, so the bundle carries only those.
    Components({ resolvers: [ElementPlusResolver({ importStyle: 'css' })], dts: 'src/components.d.ts' }),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
})
