/**
 * A tiny argument parser for the `switchboard` command: `--name value`, `--name=value` and bare
 * `--flag`. Unknown options are an error, so a typo never silently runs with defaults.
 */

export interface ParsedArgs {
  command: string | undefined
  options: Record<string, string | true>
  positionals: string[]
}

export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** Parses `argv` (without node and the script); `flags` names the options that take no value. */
export function parseArgs(
  argv: readonly string[],
  known: readonly string[],
  flags: readonly string[] = [],
): ParsedArgs {
  const options: Record<string, string | true> = {}
  const positionals: string[] = []
  let command: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--')) {
      if (command === undefined) command = arg
      else positionals.push(arg)
      continue
    }
    const eq = arg.indexOf('=')
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
    if (!known.includes(name) && !flags.includes(name)) throw new UsageError(`unknown option --${name}`)
    if (flags.includes(name)) {
      options[name] = true
    } else if (eq !== -1) {
      options[name] = arg.slice(eq + 1)
    } else {
      const value = argv[i + 1]
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`)
      options[name] = value
      i++
    }
  }
  return { command, options, positionals }
}

/** Reads a port: an integer 0–65535 (0 picks a free one). */
export function parsePort(value: string, source: string): number {
  const port = Number(value)
  if (!/^\d+$/.test(value) || port > 65535)
    throw new UsageError(`${source} must be a port number 0-65535, got "${value}"`)
  return port
}
