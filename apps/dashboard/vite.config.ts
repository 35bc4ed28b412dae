// The dashboard's build: a static app that `switchboard serve --dashboard` serves at /dashboard/
// (relative asset paths, so it works under any prefix). It talks to the server only through the
// HTTP API, so it bundles no Switchboard package — only their types are read, at type-check time.
import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
  server: {
    // `npm run dev -w @switchboard/dashboard` next to `switchboard serve --dashboard` on 8080.
    proxy: { '/api': { target: 'http://localhost:8080' } },
  },
})
