/**
 * A tiny argument parser for the `switchboard` command: `--name value`, `--name=value` and bare
 * `--flag` (which may also be written `--flag=false` or `--no-flag`, to turn off what a file or
 * a variable turned on). Unknown options are an error, so a typo never silently runs with defaults.
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
    const negated = eq === -1 && name.startsWith('no-') && flags.includes(name.slice(3))
    if (negated) {
      options[name.slice(3)] = 'false'
      continue
    }
    if (!known.includes(name) && !flags.includes(name)) throw new UsageError(`unknown option --${name}`)
    if (flags.includes(name)) {
      // A bare flag is on; `--flag=false` (or any text) is read by whoever knows its type.
      options[name] = eq === -1 ? true : arg.slice(eq + 1)
    } else if (eq !== -1) {
      options[name] = arg.slice(eq + 1)
    } else {
      const value = argv[i + 1]
      // The next option is not a value; a PEM (`-----BEGIN …`) or a negative number is.
      if (value === undefined || /^--[A-Za-z]/.test(value)) throw new UsageError(`--${name} needs a value`)
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
