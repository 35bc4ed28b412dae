// deploy/container/Dockerfile, checked without a Docker daemon (none runs on the test machines):
// the stages and the runtime's shape, that every COPY source exists (in the repository, or as what
// the build stage produces), and its CMD and HEALTHCHECK run for real with the image's WORKDIR
// mapped to this checkout. The image itself is built by `docker build` only (see docs/deploy.md).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { deployDir, kill, listening, type Proc, repoRoot, requireBuiltCli, start } from './support.js'
import { splitWords } from './unit-file.js'

interface Instruction {
  keyword: string
  args: string
}
interface Stage {
  name: string
  from: string
  instructions: Instruction[]
}

/** Dockerfile instructions by stage: continuations joined, comments dropped, ARGs before FROM applied. */
function parseDockerfile(text: string): Stage[] {
  const lines = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
  const globalArgs: Record<string, string> = {}
  const stages: Stage[] = []
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? []
    const upper = keyword.toUpperCase()
    if (upper === 'ARG' && stages.length === 0) {
      const [name, value = ''] = args.split('=')
      globalArgs[name!] = value
    } else if (upper === 'FROM') {
      const [image = '', , name = String(stages.length)] = args.replace(/^--platform=\S+\s+/, '').split(/\s+/)
      const from = image.replace(/\$\{(\w+)\}/g, (_, n: string) => globalArgs[n] ?? '')
      stages.push({ name, from, instructions: [] })
    } else {
      const stage = stages.at(-1)
      if (!stage) throw new Error(`instruction before FROM: ${line}`)
      stage.instructions.push({ keyword: upper, args })
    }
  }
  return stages
}

const DOCKERFILE = join(deployDir, 'container/Dockerfile')
const stages = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'))
const runtime = stages.at(-1)!
const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword)
const one = (stage: Stage, keyword: string) => all(stage, keyword).at(-1)?.args

/** A stage's instructions, its parents' first (`FROM build AS x` inherits build's WORKDIR and files). */
function lineage(stage: Stage): Stage[] {
  const parent = stages.find((s) => s.name === stage.from)
  return parent ? [...lineage(parent), stage] : [stage]
}
function workdir(stage: Stage): string {
  const dirs = lineage(stage).flatMap((s) => all(s, 'WORKDIR').map((i) => i.args))
  return dirs.at(-1) ?? '/'
}

/** COPY's sources (flags removed, the destination dropped) and its --from stage. */
function copies(stage: Stage): Array<{ from: string | undefined; sources: string[] }> {
  return all(stage, 'COPY').map(({ args }) => {
    const words = splitWords(args)
    const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length)
    const paths = words.filter((w) => !w.startsWith('--'))
    return { from, sources: paths.slice(0, -1) }
  })
}

/** The argv of a JSON exec form (CMD, or the CMD of a HEALTHCHECK). */
function execForm(args: string | undefined): string[] {
  const json = (args ?? '').replace(/^(--\S+\s+)*CMD\s+/, '')
  const argv = JSON.parse(json) as unknown
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string'))
    throw new Error(`not exec form: ${args}`)
  return argv
}

const imageEnv: Record<string, string> = Object.fromEntries(
  all(runtime, 'ENV').flatMap(({ args }) => splitWords(args).map((w) => w.split('=') as [string, string])),
)

const procs: Proc[] = []
afterEach(async () => {
  for (const p of procs.splice(0)) await kill(p)
})

describe('deploy/container/Dockerfile', () => {
  it('is multi-stage: builds with every tool, runs on a slim image as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    const build = stages.find((s) => all(s, 'RUN').some((r) => /\btsc -b\b/.test(r.args)))
    expect(build, 'a stage that compiles the TypeScript').toBeDefined()
    expect(lineage(build!).some((s) => all(s, 'RUN').some((r) => /npm ci\b/.test(r.args)))).toBe(true)
    expect(runtime.from).toMatch(/slim|alpine|distroless/)
    expect(all(runtime, 'RUN'), 'the runtime installs nothing').toEqual([])
    expect(one(runtime, 'USER')).toMatch(/^(?!root$|0$)\S+$/)
    expect(one(runtime, 'STOPSIGNAL')).toBe('SIGTERM')
    expect(one(runtime, 'EXPOSE')).toBe(imageEnv.PORT)
    expect(imageEnv.NODE_ENV).toBe('production')
  })

  it('copies only built code and production dependencies into the runtime, for every package the CLI needs', () => {
    const runtimeCopies = copies(runtime)
    expect(
      runtimeCopies.filter((c) => c.from === undefined),
      'no sources from the context',
    ).toEqual([])
    const deps = runtimeCopies.find((c) => c.sources.some((s) => /\/$/.test(s) || s === '.'))
    const depsStage = stages.find((s) => s.name === deps?.from)
    expect(depsStage && all(depsStage, 'RUN').some((r) => /npm ci\b.*--omit=dev/.test(r.args))).toBe(true)

    // Every @switchboard package the command depends on (transitively) gets its dist.
    const needed = new Set<string>()
    const visit = (dir: string) => {
      const pkg = JSON.parse(readFileSync(join(repoRoot, dir, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>
      }
      for (const name of Object.keys(pkg.dependencies ?? {})) {
        if (!name.startsWith('@switchboard/')) continue
        const sub = `packages/${name.slice('@switchboard/'.length)}`
        if (!needed.has(sub)) {
          needed.add(sub)
          visit(sub)
        }
      }
    }
    needed.add('packages/cli')
    visit('packages/cli')
    const distCopies = runtimeCopies.flatMap((c) => c.sources)
    for (const dir of needed) {
      expect(distCopies, `${dir}/dist is copied into the runtime`).toContain(`/src/${dir}/dist`)
    }
    expect(distCopies).toContain('/src/apps/chat/dist')
    // What serve reads at run time besides its code: the JSON Schema of its configuration.
    expect(distCopies).toContain('/src/packages/cli/schema')
  })

  it('gives npm ci every workspace manifest (the lockfile names them all)', () => {
    const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { workspaces: string[] }
    const copied = stages
      .flatMap((s) => copies(s).filter((c) => c.from === undefined))
      .flatMap((c) => c.sources)
    expect(copied).toContain('package-lock.json')
    for (const ws of root.workspaces) expect(copied, `${ws}/package.json`).toContain(`${ws}/package.json`)
  })

  it('names only COPY sources that exist (in the repository, or as what the stage built)', () => {
    requireBuiltCli()
    const ignored = readFileSync(join(deployDir, 'container/Dockerfile.dockerignore'), 'utf8')
    expect(ignored).toMatch(/^\*\*\/node_modules$/m)
    for (const stage of stages) {
      for (const { from, sources } of copies(stage)) {
        for (const source of sources) {
          if (from === undefined) {
            expect(existsSync(join(repoRoot, source)), `COPY ${source} (${stage.name})`).toBe(true)
            expect(source, 'excluded by the .dockerignore').not.toMatch(/node_modules|\/dist\b/)
          } else {
            // A path in another stage: its WORKDIR is this checkout, where `npm run build` made it.
            const origin = stages.find((s) => s.name === from)
            expect(origin, `COPY --from=${from}`).toBeDefined()
            const base = workdir(origin!)
            expect(source.startsWith(base), `${source} is under ${from}'s WORKDIR ${base}`).toBe(true)
            const local = join(repoRoot, source.slice(base.length))
            expect(existsSync(local), `COPY --from=${from} ${source} (${local})`).toBe(true)
          }
        }
      }
    }
  })

  it('runs its CMD: serves, passes its HEALTHCHECK, drains on STOPSIGNAL within docker stop’s 10 s', async () => {
    requireBuiltCli()
    const cmd = execForm(one(runtime, 'CMD'))
    const health = execForm(one(runtime, 'HEALTHCHECK'))
    expect(cmd[0]).toBe('node')
    expect(health[0]).toBe('node')
    const drain = Number(cmd[cmd.indexOf('--drain-timeout') + 1])
    expect(drain).toBeGreaterThan(0)
    expect(drain).toBeLessThan(10_000)

    const env = { ...process.env, ...imageEnv, PORT: '0' }
    const proc = start(process.execPath, cmd.slice(1), env)
    procs.push(proc)
    const node = await listening(proc)
    const check = async () => {
      const probe = start(process.execPath, health.slice(1), { ...env, PORT: String(node.port) })
      procs.push(probe)
      return probe.exited
    }
    expect(await check()).toBe(0)
    expect(await (await fetch(`http://127.0.0.1:${node.port}/`)).text()).toMatch(/<html/i)

    const ws = new WebSocket(node.url, 'switchboard.v1')
    const hello = new Promise((resolve) => ws.once('message', resolve))
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    ws.on('error', () => {})
    await hello
    proc.child.kill(one(runtime, 'STOPSIGNAL') as NodeJS.Signals)
    expect(await closed).toBe(1012)
    expect(await proc.exited).toBe(0)
    expect(await check()).toBe(1)
  })
})
