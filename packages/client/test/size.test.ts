/**
 * A size check, not a timing: the browser entry, bundled with the protocol, minified and
 * gzipped (the same measurement `node packages/client/scripts/size.mjs` prints), must stay under
 * 14 KB and must not pull in `ws` or any Node built-in.
 */
import { describe, expect, it } from 'vitest'
import { measure } from '../scripts/size.mjs'

describe('browser bundle', () => {
  it('is under 14 KB min+gzip and free of Node built-ins', async () => {
    const { gzip, inputs } = await measure()
    expect(inputs.some((i) => i.includes('node_modules/ws'))).toBe(false)
    expect(inputs.some((i) => i.startsWith('node:'))).toBe(false)
    expect(inputs.some((i) => i.includes('packages/client/src/browser.ts'))).toBe(true)
    expect(gzip).toBeLessThan(14 * 1024)
  })
})
