// Every package's exports map points at built files: each module subpath has a `types` and a
// `default` target (a data file, such as a JSON Schema, is exported as itself), and both exist after `npm run build` (which `npm test` runs first). A subpath added to
// an exports map without its entry module, or an entry that stopped being built, fails here.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const packagesDir = fileURLToPath(new URL('../../', import.meta.url))

interface Manifest {
  name: string
  private?: boolean
  exports?: Record<string, string | { types?: string; default?: string }>
}

const manifests = readdirSync(packagesDir)
  .map((dir) => join(packagesDir, dir))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest }))
  .filter(({ manifest }) => manifest.exports !== undefined)

describe('export maps', () => {
  it('covers the published packages', () => {
    const names = manifests.map(({ manifest }) => manifest.name)
    for (const name of ['@switchboard/protocol', '@switchboard/broker', '@switchboard/server']) {
      expect(names).toContain(name)
    }
  })

  for (const { dir, manifest } of manifests) {
    for (const [subpath, target] of Object.entries(manifest.exports!)) {
      if (typeof target === 'string') {
        // A data file (the config's JSON Schema): exported as the file itself.
        it(`${manifest.name} ${subpath} is a JSON file that exists`, () => {
          expect(target).toMatch(/\.json$/)
          expect(existsSync(join(dir, target)), target).toBe(true)
        })
        continue
      }
      it(`${manifest.name} ${subpath} resolves to a built module with types`, () => {
        expect(target.types, 'types').toMatch(/\.d\.ts$/)
        expect(target.default, 'default').toMatch(/\.js$/)
        expect(existsSync(join(dir, target.types!)), target.types).toBe(true)
        expect(existsSync(join(dir, target.default!)), target.default).toBe(true)
      })
    }
  }
})
