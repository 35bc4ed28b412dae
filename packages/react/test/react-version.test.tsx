// Which React the hooks' tests run on: the tree's React 19 in the main project, React 18 in the
// `react18` project (vitest.config.ts) — so a broken alias cannot pass React 19 off as 18.
import { version } from 'react'
import { version as domVersion } from 'react-dom'
import { expect, inject, it } from 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    reactMajor: string
  }
}

it('runs on the React this project is for', () => {
  expect(version.split('.')[0]).toBe(inject('reactMajor'))
  expect(domVersion).toBe(version)
})
