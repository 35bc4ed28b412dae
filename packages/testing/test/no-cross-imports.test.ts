// No test reaches into another package's test folder by a relative path: what tests share lives
// in @switchboard/testing. Scans every TypeScript file under a test folder (or named *.test.*) in
// the repository, node_modules and build output aside.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const SKIP = new Set(['node_modules', 'dist', '.git'])

/** The package a repository path belongs to: `packages/x`, `apps/x`, else its first folder. */
function owner(path: string): string {
  const parts = path.split('/')
  return parts[0] === 'packages' || parts[0] === 'apps' ? parts.slice(0, 2).join('/') : parts[0]!
}

/** The specifiers of a source's imports, exports and dynamic imports. */
function specifiers(source: string): string[] {
  const found: string[] = []
  for (const m of source.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) found.push(m[1]!)
  return found
}

/** The imports of `file` (a repository path) that land in another package's test folder. */
function crossTestImports(file: string, source: string): string[] {
  const from = owner(file)
  return specifiers(source).filter((spec) => {
    const target = spec.startsWith('.')
      ? relative(repoRoot, resolve(repoRoot, dirname(file), spec))
          .split(sep)
          .join('/')
      : /(?:^|\/)((?:packages|apps)\/[^/]+\/test\/.*)$/.exec(spec)?.[1]
    if (target === undefined) return false
    const to = owner(target)
    return to !== from && target.startsWith(`${to}/test/`)
  })
}

function testFiles(dir = repoRoot, inTest = false): string[] {
  const files: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) files.push(...testFiles(path, inTest || entry.name === 'test'))
    else if (/\.(?:ts|tsx|mts|js|mjs)$/.test(entry.name) && (inTest || /\.test\./.test(entry.name))) {
      files.push(relative(repoRoot, path).split(sep).join('/'))
    }
  }
  return files
}

describe('test imports', () => {
  it('finds an import of another package’s test folder, relative or by repository path', () => {
    // Written with Q for the quote, so that the scan of this very file does not find them.
    const source = [
      'import { freePort } from Q../../server/test/free-port.jsQ',
      'export { until } from Q../../../packages/server/test/helpers.jsQ',
      'const m = await import(Qpackages/client/test/tcp-proxy.jsQ)',
      'import { PrivateRedis } from Q./redis-helpers.jsQ',
      'import { until } from Q@switchboard/testingQ',
    ]
      .join('\n')
      .replaceAll('Q', "'")
    expect(crossTestImports('packages/redis/test/a.test.ts', source)).toEqual([
      '../../server/test/free-port.js',
      '../../../packages/server/test/helpers.js',
      'packages/client/test/tcp-proxy.js',
    ])
    // A package's own test folder is its own business.
    expect(
      crossTestImports('packages/server/test/deep/b.test.ts', 'import Q../helpers.jsQ'.replaceAll('Q', "'")),
    ).toEqual([])
  })

  it('finds none in the repository', () => {
    const files = testFiles()
    expect(files.length).toBeGreaterThan(50)
    const offenders = files.flatMap((file) =>
      crossTestImports(file, readFileSync(join(repoRoot, file), 'utf8')).map((spec) => `${file}: ${spec}`),
    )
    expect(offenders).toEqual([])
  })
})
