/**
 * The callers of one per-pattern hook (`subscribe`, `publish`, `rpc`): a single `ProxyHook` for
 * every name, or one per pattern, matched as channel options are — an exact name wins, then the
 * longest pattern. Each entry has its own caller, so its own concurrency bound: a slow backend
 * behind one pattern does not hold calls for another.
 */
import { patternToRegExp } from '../channels/channel-options.js'
import { HookCaller } from './hook-caller.js'
import type { ProxyHook, ProxyHooks } from './proxy-options.js'
import type { ReportLimiter } from './report-limiter.js'

function isHook(hooks: ProxyHooks): hooks is ProxyHook {
  return typeof (hooks as { url?: unknown }).url === 'string'
}

export class HookTable {
  private readonly exact = new Map<string, HookCaller>()
  private readonly patterns: Array<{ re: RegExp; length: number; caller: HookCaller }> = []
  private readonly all: HookCaller | undefined
  /** Every entry's caller with its config. */
  readonly entries: Array<{ caller: HookCaller; hook: ProxyHook }> = []

  constructor(name: string, hooks: ProxyHooks, reports: ReportLimiter) {
    if (isHook(hooks)) {
      this.all = new HookCaller(name, hooks, reports)
      this.entries.push({ caller: this.all, hook: hooks })
      return
    }
    for (const [pattern, hook] of Object.entries(hooks)) {
      const caller = new HookCaller(`${name} "${pattern}"`, hook, reports)
      this.entries.push({ caller, hook })
      if (pattern.includes('*'))
        this.patterns.push({ re: patternToRegExp(pattern), length: pattern.length, caller })
      else this.exact.set(pattern, caller)
    }
    this.patterns.sort((a, b) => b.length - a.length)
  }

  /** The caller for this channel or event, if any entry matches it. */
  get(name: string): HookCaller | undefined {
    return this.all ?? this.exact.get(name) ?? this.patterns.find((p) => p.re.test(name))?.caller
  }
}
