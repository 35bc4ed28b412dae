// The chat app's build. Workspace packages resolve to their TypeScript sources (as in the root
// vitest config), so `vite build` never bundles a stale package build; the client resolves to its
// browser entry (what the package's `browser` export condition points at): no `ws`, no Node built-ins.
import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

const pkg = (path: string) => fileURLToPath(new URL(`../../packages/${path}`, import.meta.url))

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [react()],
  resolve: {
    alias: [
      { find: /^@switchboard\/react$/, replacement: pkg('react/src/index.ts') },
      { find: /^@switchboard\/client$/, replacement: pkg('client/src/browser.ts') },
      { find: /^@switchboard\/client\/(share|outbox)$/, replacement: pkg('client/src/$1.ts') },
      { find: /^@switchboard\/protocol$/, replacement: pkg('protocol/src/index.ts') },
    ],
  },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
  server: {
    // `npm run dev -w @switchboard/chat` next to `switchboard serve` on 8080.
    proxy: {
      '/ws': { target: 'ws://localhost:8080', ws: true },
      '/switchboard.json': { target: 'http://localhost:8080' },
    },
  },
})
