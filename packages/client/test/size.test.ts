/**
 * A size check, not a timing: the browser entry, bundled with the protocol, minified and
 * gzipped, must stay under 10 KB and must not pull in `ws` or any Node built-in.
 */
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'

const root = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url))

describe('browser bundle', () => {
  it('is under 10 KB min+gzip and free of Node built-ins', async () => {
    const result = await build({
      entryPoints: [root('packages/client/src/browser.ts')],
      alias: { '@switchboard/protocol': root('packages/protocol/src/index.ts') },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
    })
    const inputs = Object.keys(result.metafile.inputs)
    expect(inputs.some((i) => i.includes('node_modules/ws'))).toBe(false)
    expect(inputs.some((i) => i.startsWith('node:'))).toBe(false)
    const gzip = gzipSync(result.outputFiles[0]!.contents, { level: 9 }).byteLength
    expect(gzip).toBeLessThan(10 * 1024)
  })
})
