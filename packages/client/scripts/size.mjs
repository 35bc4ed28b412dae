// Measures the browser entry of @switchboard/client as an application would ship it: bundled
// with its protocol dependency, minified, then gzipped. Usage: node packages/client/scripts/size.mjs
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const root = (path) => fileURLToPath(new URL(`../../../${path}`, import.meta.url))

export async function measure() {
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
  const code = result.outputFiles[0].contents
  return {
    min: code.byteLength,
    gzip: gzipSync(code, { level: 9 }).byteLength,
    inputs: Object.keys(result.metafile.inputs),
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { min, gzip } = await measure()
  console.log(`browser bundle: ${(min / 1024).toFixed(1)} KB min, ${(gzip / 1024).toFixed(1)} KB min+gzip`)
}
