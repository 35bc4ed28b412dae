// Vitest over every workspace. Workspace packages resolve to their TypeScript sources, so tests
// never depend on a stale build. The React hooks' tests run twice: with the tree's React 19, and
// (project `react18`) with React 18 from packages/react/test/react18, which the root postinstall
// installs apart from the workspaces — `@switchboard/react` declares both as its peer range.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (entry: string) => {
  const [pkg, ...sub] = entry.split('/')
  return fileURLToPath(new URL(`./packages/${pkg}/src/${[...sub, 'index.ts'].join('/')}`, import.meta.url))
}
const entry = (pkg: string, name: string) =>
  fileURLToPath(new URL(`./packages/${pkg}/src/${name}.ts`, import.meta.url))
const react18 = (path: string) =>
  fileURLToPath(new URL(`./packages/react/test/react18/node_modules/${path}`, import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      {
        find: /^@switchboard\/(protocol|broker|server|redis|client|react|cli|testing)$/,
        replacement: src('$1'),
      },
      { find: /^@switchboard\/broker\/testing$/, replacement: src('broker/testing') },
      { find: /^@switchboard\/server\/(jwt|metrics|static)$/, replacement: entry('server', '$1') },
      { find: /^@switchboard\/protocol\/msgpack$/, replacement: entry('protocol', 'msgpack-codec') },
      {
        find: /^@switchboard\/client\/(msgpack|share|share-worker|outbox)$/,
        replacement: entry('client', '$1'),
      },
    ],
  },
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'all',
          include: [
            'packages/*/src/**/*.test.ts',
            'packages/*/src/**/*.test.tsx',
            'packages/*/test/**/*.test.ts',
            'packages/*/test/**/*.test.tsx',
            'examples/**/*.test.ts',
            'apps/*/test/**/*.test.ts',
            'bench/**/*.test.ts',
            'deploy/**/*.test.ts',
            'docs/test/**/*.test.ts',
          ],
          exclude: ['**/node_modules/**'],
          provide: { reactMajor: '19' },
        },
      },
      {
        extends: true,
        resolve: {
          alias: [
            { find: /^react$/, replacement: react18('react/index.js') },
            { find: /^react\/(.+)$/, replacement: react18('react/$1') },
            { find: /^react-dom$/, replacement: react18('react-dom/index.js') },
            { find: /^react-dom\/(.+)$/, replacement: react18('react-dom/$1') },
            {
              find: /^@testing-library\/react$/,
              replacement: react18('@testing-library/react/dist/index.js'),
            },
          ],
        },
        test: {
          name: 'react18',
          include: ['packages/react/test/**/*.test.tsx'],
          exclude: ['**/node_modules/**'],
          provide: { reactMajor: '18' },
        },
      },
    ],
  },
})
