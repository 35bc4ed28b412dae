// Every TypeScript and JavaScript snippet of README.md and docs/*.md type-checks as written (see
// snippets.ts for how: one module per block, a per-page prelude in docs/snippets/, one program).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  checkSnippets,
  docPages,
  extractSnippets,
  preludePath,
  repositoryRoot,
  staleBuilds,
} from './snippets.js'

const root = repositoryRoot

describe('extractSnippets', () => {
  it('takes ts, tsx, js and javascript blocks, with the line of their first line of code', () => {
    const markdown = [
      '# Page', //                   1
      '',
      '```ts', //                    3
      'const a = 1',
      '```',
      '```sh',
      'npm test',
      '```',
      '  ~~~~javascript', //         9
      '  const b = 2',
      '  ```',
      '  ~~~~',
      '```json',
      '{}',
      '```',
      '```tsx title="x"', //       16
      '<div />',
      '```',
      '```js',
      '```',
    ].join('\n')
    expect(extractSnippets(markdown, 'page.md')).toEqual([
      { page: 'page.md', line: 4, lang: 'ts', code: 'const a = 1' },
      { page: 'page.md', line: 10, lang: 'javascript', code: 'const b = 2\n```' },
      { page: 'page.md', line: 17, lang: 'tsx', code: '<div />' },
      { page: 'page.md', line: 20, lang: 'js', code: '' },
    ])
  })
})

describe('checkSnippets', () => {
  // A page that does not exist in docs/, so it has no prelude; the checker gets it in memory.
  const check = (markdown: string) => checkSnippets(root, [{ path: 'docs/in-memory-test.md', markdown }])

  it('passes valid snippets; each block is a module of its own (both declare client)', () => {
    const markdown = [
      '```ts',
      "import { SwitchboardClient } from '@switchboard/client'",
      "const client = new SwitchboardClient('ws://localhost:8080/ws')",
      "client.emit('typing', { room: 'general' })",
      '```',
      '',
      '```js',
      "const client = new WebSocket('ws://localhost:8080/ws', 'switchboard.v1')",
      '```',
    ].join('\n')
    expect(check(markdown)).toEqual([])
  })

  it("gives each block the prelude's exports it does not define itself", () => {
    const prelude = [
      "import type { Switchboard } from '@switchboard/server'",
      'export declare const sb: Switchboard',
      'export interface Message {',
      '  text: string',
      '}',
    ].join('\n')
    const markdown = [
      '```ts',
      "sb.on('connection', (conn) => conn.send('notice', { text: 'hi' }))", // 2
      "const m: Message = { text: 'hi' }",
      '```',
      '```ts',
      'const sb = 42', // 6: its own sb, not the prelude's
      "sb.on('connection', () => {})",
      '```',
      '```js',
      "sb.publish('news', { text: 'js blocks see values, not types' })",
      '```',
    ].join('\n')
    const problems = checkSnippets(root, [{ path: 'docs/in-memory-test.md', markdown, prelude }])
    expect(problems.map((p) => `${p.where} ${p.message.slice(0, 6)}`)).toEqual([
      'docs/in-memory-test.md:7:4 TS2339',
    ])
  })

  it('reports a type error at its line in the page', () => {
    const markdown = [
      'text',
      '```ts',
      "import { createSwitchboard } from '@switchboard/server'",
      '',
      "const sb = createSwitchboard({ port: '8080' })",
      '```',
    ].join('\n')
    const problems = check(markdown)
    expect(problems).toHaveLength(1)
    expect(problems[0]!.where).toBe('docs/in-memory-test.md:5:32')
    expect(problems[0]!.message).toMatch(/^TS2322 Type 'string' is not assignable to type 'number'/)
  })

  it('reports an unknown name, a wrong option, pseudo-code, and type errors in js blocks', () => {
    const markdown = [
      '```ts',
      'render(1)',
      '```',
      '```ts',
      "import { SwitchboardClient } from '@switchboard/client'",
      "new SwitchboardClient('ws://x/ws', { reconnectDelay: 5 })",
      '```',
      '```ts',
      'interface Broker { publish(channel, data): Promise<void> }',
      '```',
      '```js',
      'const n = 1',
      'n.toUpperCase()',
      '```',
    ].join('\n')
    const where = check(markdown).map((p) => `${p.where} ${p.message.slice(0, 6)}`)
    expect(where).toEqual([
      'docs/in-memory-test.md:2:1 TS2304',
      'docs/in-memory-test.md:6:38 TS2353',
      'docs/in-memory-test.md:9:28 TS7006',
      'docs/in-memory-test.md:9:37 TS7006',
      'docs/in-memory-test.md:13:3 TS2339',
    ])
  })
})

describe('the docs', () => {
  const pages = docPages(root)

  it('include README.md and every docs/*.md page', () => {
    expect(pages).toContain('README.md')
    expect(pages).toContain('docs/client.md')
    expect(pages.length).toBeGreaterThan(5)
  })

  it('have a page for every prelude', () => {
    const preludes = readdirSync(join(root, 'docs', 'snippets')).filter((name) =>
      name.endsWith('.prelude.ts'),
    )
    const orphans = preludes.filter(
      (name) => !pages.some((page) => preludePath(root, page).endsWith(`/${name}`)),
    )
    expect(orphans).toEqual([])
  })

  it('are checked against a current build of the packages', () => {
    expect(staleBuilds(root), 'these packages need `npm run build`').toEqual([])
  })

  it('have snippets that all type-check as written', () => {
    const problems = checkSnippets(
      root,
      pages.map((path) => ({ path, markdown: readFileSync(join(root, path), 'utf8') })),
    )
    expect(problems.map((p) => `${p.where} ${p.message}`)).toEqual([])
  })
})
