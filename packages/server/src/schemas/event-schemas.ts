/**
 * Server events' validators: `sb.event(name, schema)` or `createSwitchboard({ schemas: { events } })`.
 * `conn.send` and `sb.sendTo` run an event's data through its validator (synchronously, as
 * `conn.send` does not wait) and send what it gives; events without one are sent as they are.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { isValidEventName } from '@switchboard/protocol'
import { validateNow } from './validate.js'

export class EventSchemas {
  private readonly schemas = new Map<string, StandardSchemaV1>()

  constructor(initial: Record<string, StandardSchemaV1> = {}) {
    for (const [event, schema] of Object.entries(initial)) this.set(event, schema)
  }

  /** Registers the validator of an event; a TypeError for an invalid name, a second one, or no validator. */
  set(event: string, schema: StandardSchemaV1): void {
    if (!isValidEventName(event)) throw new TypeError(`invalid event name "${event}"`)
    if (typeof schema?.['~standard']?.validate !== 'function') {
      throw new TypeError(`event("${event}", schema): schema is not a Standard Schema validator`)
    }
    if (this.schemas.has(event)) throw new TypeError(`event "${event}" already has a schema`)
    this.schemas.set(event, schema)
  }

  /** The data to send for this event: validated (and transformed) when it has a schema. */
  data(event: string, data: unknown): unknown {
    const schema = this.schemas.get(event)
    return schema ? validateNow(schema, data, `event "${event}"`) : data
  }
}
