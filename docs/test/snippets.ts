/**
 * Type-checks the TypeScript and JavaScript snippets of the docs, as a user would write them.
 *
 * Every ```ts, ```tsx, ```js and ```javascript fenced block of a page becomes its own module (a
 * virtual file beside the preludes, in docs/snippets/), and one TypeScript program checks them all:
 * strict, ESM, DOM and Node types, `@switchboard/*` resolved through node_modules and the packages'
 * `exports` to their built declarations (dist/), exactly as an application resolves them.
 *
 * Snippets are fragments: they use names defined elsewhere on the page (a `client`, an `sb`, a
 * `ChatApp` type). A page `docs/<page>.md` (or `README.md`) may have a prelude,
 * `docs/snippets/<page>.prelude.ts`, a module whose exports every block of that page sees — each
 * block imports those of the prelude's exports it does not declare or import itself, so a block
 * may redefine `client` or `ChatApp` as its own. Blocks do not see each other: each reads alone,
 * with its imports and the prelude (the pages are not one program in order: block after block
 * declares its own `client` or `sb`). Unused names are allowed (fragments have them); anything else
 * the compiler reports is a documentation bug, reported at its line in the page. `*.d.ts` files in
 * docs/snippets/ declare packages the docs use and the workspace does not install (express).
 * The declarations checked against are the build's: the test fails if a package's dist/ is older
 * than its sources (`npm test` builds first).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

export const snippetLanguages = ['ts', 'tsx', 'js', 'javascript'] as const
export type SnippetLanguage = (typeof snippetLanguages)[number]

export interface Snippet {
  /** the page, as given (a path relative to the repository root) */
  page: string
  /** 1-based line of the snippet's first line of code in the page */
  line: number
  lang: SnippetLanguage
  code: string
}

export interface Page {
  /** a path relative to the root, e.g. `docs/client.md` */
  path: string
  markdown: string
  /** the prelude's text, in place of the file docs/snippets/<page>.prelude.ts (for tests) */
  prelude?: string
}

export interface SnippetProblem {
  /** `page:line` for a snippet, or the file's path relative to the root */
  where: string
  message: string
}

const fenceOpen = /^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/

/** The fenced code blocks of a page whose info string names one of `snippetLanguages`. */
export function extractSnippets(markdown: string, page: string): Snippet[] {
  const lines = markdown.split(/\r?\n/)
  const snippets: Snippet[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = fenceOpen.exec(lines[i]!)
    if (!open) continue
    const [, indent, fence, info] = open as unknown as [string, string, string, string]
    const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`)
    const body: string[] = []
    let j = i + 1
    while (j < lines.length && !close.test(lines[j]!)) {
      const text = lines[j]!
      let strip = 0
      while (strip < indent.length && text[strip] === ' ') strip++
      body.push(text.slice(strip))
      j++
    }
    const lang = info.toLowerCase()
    if ((snippetLanguages as readonly string[]).includes(lang)) {
      snippets.push({ page, line: i + 2, lang: lang as SnippetLanguage, code: body.join('\n') })
    }
    i = j
  }
  return snippets
}

/** README.md and every docs/*.md page, relative to the root. */
export function docPages(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`)
  return ['README.md', ...docs]
}

/** Where a page's prelude lives: docs/snippets/<page name without .md>.prelude.ts. */
export function preludePath(root: string, page: string): string {
  return join(root, 'docs', 'snippets', `${basename(page, '.md')}.prelude.ts`)
}

export const compilerOptions: ts.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  moduleDetection: ts.ModuleDetectionKind.Force,
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
  types: ['node'],
  jsx: ts.JsxEmit.ReactJSX,
  allowJs: true,
  checkJs: true,
  noEmit: true,
  skipLibCheck: true,
  noFallthroughCasesInSwitch: true,
  noImplicitOverride: true,
}

interface Exported {
  name: string
  typeOnly: boolean
}

const isExported = (node: ts.Node) =>
  ts.canHaveModifiers(node) && !!ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)

function bindingNames(name: ts.BindingName, into: string[]): void {
  if (ts.isIdentifier(name)) {
    into.push(name.text)
    return
  }
  for (const element of name.elements) {
    if (!ts.isOmittedExpression(element)) bindingNames(element.name, into)
  }
}

/** The names a module's top level declares, imports or (with `exportedOnly`) exports. */
function topLevelNames(source: ts.SourceFile, exportedOnly: boolean): Exported[] {
  const names: Exported[] = []
  const add = (list: string[], typeOnly: boolean) => {
    for (const name of list) names.push({ name, typeOnly })
  }
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      if (exportedOnly && statement.exportClause && ts.isNamedExports(statement.exportClause)) {
        for (const spec of statement.exportClause.elements) {
          names.push({ name: spec.name.text, typeOnly: statement.isTypeOnly || spec.isTypeOnly })
        }
      }
      continue
    }
    if (exportedOnly && !isExported(statement)) continue
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause
      if (!clause) continue
      if (clause.name) add([clause.name.text], clause.isTypeOnly)
      const bindings = clause.namedBindings
      if (bindings && ts.isNamespaceImport(bindings)) add([bindings.name.text], clause.isTypeOnly)
      if (bindings && ts.isNamedImports(bindings)) {
        for (const spec of bindings.elements) add([spec.name.text], clause.isTypeOnly || spec.isTypeOnly)
      }
    } else if (ts.isImportEqualsDeclaration(statement)) {
      add([statement.name.text], statement.isTypeOnly)
    } else if (ts.isVariableStatement(statement)) {
      const list: string[] = []
      for (const declaration of statement.declarationList.declarations) bindingNames(declaration.name, list)
      add(list, false)
    } else if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) {
      add([statement.name.text], true)
    } else if (
      (ts.isFunctionDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isEnumDeclaration(statement) ||
        ts.isModuleDeclaration(statement)) &&
      statement.name &&
      ts.isIdentifier(statement.name)
    ) {
      add([statement.name.text], false)
    }
  }
  return names
}

const extension: Record<SnippetLanguage, string> = { ts: '.ts', tsx: '.tsx', js: '.js', javascript: '.js' }

const libraryFiles = new Map<string, ts.SourceFile>()

interface Virtual {
  snippet: Snippet
  text: string
}

/**
 * Checks the snippets of `pages` in one program. `root` is the repository root: the virtual files
 * live in `<root>/docs/snippets/`, so `@switchboard/*`, zod and the rest resolve from its
 * node_modules, and the preludes are read from there too.
 */
export function checkSnippets(root: string, pages: readonly Page[]): SnippetProblem[] {
  const dir = join(root, 'docs', 'snippets')
  const virtual = new Map<string, Virtual>()
  const preludes = new Set<string>()
  const virtualPreludes = new Map<string, string>()
  // Declarations of packages the docs use and the workspace does not install (express).
  const ambient = readdirSync(dir)
    .filter((name) => name.endsWith('.d.ts'))
    .map((name) => join(dir, name))
  for (const page of pages) {
    const prelude = preludePath(root, page.path)
    const preludeText = page.prelude ?? (existsSync(prelude) ? readFileSync(prelude, 'utf8') : '')
    if (page.prelude !== undefined) virtualPreludes.set(prelude, page.prelude)
    const exported = topLevelNames(ts.createSourceFile(prelude, preludeText, ts.ScriptTarget.Latest), true)
    if (exported.length > 0) preludes.add(prelude)
    extractSnippets(page.markdown, page.path).forEach((snippet, index) => {
      const file = join(dir, `${basename(page.path, '.md')}.md.${index + 1}${extension[snippet.lang]}`)
      const javascript = extension[snippet.lang] === '.js'
      const own = new Set(
        topLevelNames(ts.createSourceFile(file, snippet.code, ts.ScriptTarget.Latest), false).map(
          (n) => n.name,
        ),
      )
      const wanted = exported.filter((e) => !own.has(e.name) && !(javascript && e.typeOnly))
      // The prelude's import goes last, so that line N of the file is line N of the snippet.
      const specifiers = wanted.map((e) => (e.typeOnly && !javascript ? `type ${e.name}` : e.name))
      const importLine =
        specifiers.length > 0
          ? `\nimport { ${specifiers.join(', ')} } from './${basename(prelude, '.ts')}.js'\n`
          : '\n'
      virtual.set(file, { snippet, text: snippet.code + importLine })
    })
  }

  const host = ts.createCompilerHost(compilerOptions)
  const { getSourceFile, fileExists, readFile } = host
  const text = (file: string) => virtual.get(file)?.text ?? virtualPreludes.get(file)
  host.fileExists = (file) => text(file) !== undefined || fileExists.call(host, file)
  host.readFile = (file) => text(file) ?? readFile.call(host, file)
  host.getSourceFile = (file, languageVersion, onError, shouldCreate) => {
    const own = text(file)
    if (own !== undefined) return ts.createSourceFile(file, own, languageVersion)
    // Declarations of the libraries and packages are parsed once per process, not once per program.
    const key = `${file}|${JSON.stringify(languageVersion)}`
    const cached = libraryFiles.get(key)
    if (cached) return cached
    const source = getSourceFile.call(host, file, languageVersion, onError, shouldCreate)
    if (source && /\/node_modules\/|\/packages\/[^/]+\/dist\//.test(file)) libraryFiles.set(key, source)
    return source
  }
  const roots = [...virtual.keys(), ...preludes, ...ambient]
  const program = ts.createProgram({ rootNames: roots, options: compilerOptions, host })

  const problems: SnippetProblem[] = []
  const report = (diagnostic: ts.Diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
    const code = `TS${diagnostic.code}`
    const file = diagnostic.file
    if (!file || diagnostic.start === undefined) {
      problems.push({
        where: file ? relative(root, file.fileName) : '(program)',
        message: `${code} ${message}`,
      })
      return
    }
    const { line, character } = file.getLineAndCharacterOfPosition(diagnostic.start)
    const v = virtual.get(file.fileName)
    const where = v
      ? `${v.snippet.page}:${v.snippet.line + line}:${character + 1}`
      : `${relative(root, file.fileName)}:${line + 1}:${character + 1}`
    problems.push({ where, message: `${code} ${message}` })
  }
  for (const diagnostic of program.getOptionsDiagnostics()) report(diagnostic)
  for (const diagnostic of program.getGlobalDiagnostics()) report(diagnostic)
  for (const file of roots) {
    const source = program.getSourceFile(file)
    if (!source) {
      problems.push({ where: relative(root, file), message: 'not part of the program' })
      continue
    }
    for (const diagnostic of program.getSyntacticDiagnostics(source)) report(diagnostic)
    for (const diagnostic of program.getSemanticDiagnostics(source)) report(diagnostic)
  }
  return problems
}

/**
 * The workspace packages the snippets import, resolved as a user resolves them: their built
 * declarations. Names those whose dist/ is missing or older than a source file (run `npm run build`).
 */
export function staleBuilds(root: string): string[] {
  const stale: string[] = []
  const newest = (path: string): number => {
    let time = 0
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name)
      if (entry.isDirectory()) time = Math.max(time, newest(full))
      else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) {
        time = Math.max(time, statSync(full).mtimeMs)
      }
    }
    return time
  }
  const packages = join(root, 'packages')
  for (const name of readdirSync(packages)) {
    const src = join(packages, name, 'src')
    const built = join(packages, name, 'tsconfig.tsbuildinfo')
    if (!existsSync(src)) continue
    if (!existsSync(join(packages, name, 'dist')) || !existsSync(built)) stale.push(name)
    else if (newest(src) > statSync(built).mtimeMs) stale.push(name)
  }
  return stale
}

export const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url))
