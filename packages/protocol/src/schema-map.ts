/**
 * One definition for an application's payloads: Standard Schema validators (zod, valibot,
 * arktype… — anything with `~standard`) for its requests, server events and channels, from which
 * both the TypeScript event map (`InferEventMap`) and the server's runtime validation
 * (`createSwitchboard({ schemas })`) come. Channel keys are patterns (`'chat:*'`), as in the
 * server's channel options; in the event map they become template literals (`chat:${string}`).
 *
 * ```ts
 * const schemas = defineSchemas({
 *   requests: { 'chat:send': { data: z.object({ room: z.string(), text: z.string() }) } },
 *   events: { notice: z.object({ text: z.string() }) },
 *   channels: { 'chat:*': z.object({ user: z.string(), text: z.string() }) },
 * })
 * type ChatApp = InferEventMap<typeof schemas>
 * ```
 */
import type { StandardSchemaV1 } from '@standard-schema/spec'

/** Validators by name: a request's `data` (and, for its type only, `reply`), events, channel patterns. */
export interface SchemaMap {
  requests?: Record<string, { data: StandardSchemaV1; reply?: StandardSchemaV1 }>
  events?: Record<string, StandardSchemaV1>
  channels?: Record<string, StandardSchemaV1>
}

/** `'chat:*'` → `chat:${string}`: a channel pattern as the names it matches. */
export type PatternNames<K extends string> = K extends `${infer Head}*${infer Tail}`
  ? `${Head}${string}${PatternNames<Tail>}`
  : K

type Input<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferInput<S> : unknown
type Output<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown
type Entries<T> = T extends Record<string, unknown> ? T : Record<never, never>

/**
 * The event map a SchemaMap describes: a request's `data` is what its schema takes (the client
 * sends it) and `handled` what it gives (the handler receives it), its `reply` what the reply
 * schema gives (the client receives it; unknown without one); an event's and a channel's data is
 * what their schema gives — after any transform, as subscribers receive it.
 */
export type InferEventMap<S extends SchemaMap> = {
  requests: {
    [K in keyof Entries<S['requests']>]: {
      data: Entries<S['requests']>[K] extends { data: infer D } ? Input<D> : unknown
      handled: Entries<S['requests']>[K] extends { data: infer D } ? Output<D> : unknown
      reply: Entries<S['requests']>[K] extends { reply: infer R } ? Output<R> : unknown
    }
  }
  events: { [K in keyof Entries<S['events']>]: Output<Entries<S['events']>[K]> }
  channels: {
    [K in keyof Entries<S['channels']> as PatternNames<K & string>]: Output<Entries<S['channels']>[K]>
  }
}

/** Returns its argument, typed as given: so `typeof schemas` keeps every key and validator type. */
export function defineSchemas<const S extends SchemaMap>(schemas: S): S {
  return schemas
}
