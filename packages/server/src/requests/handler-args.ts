/**
 * The arguments of `sb.handle(event, handler)` or `sb.handle(event, schema, handler)`, read and
 * checked: a TypeError for a missing handler, a reserved `$` name or a schema that is not a
 * Standard Schema validator.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { ClientConnection } from '../connection/connection.js'
import type { AnyHandler } from './handlers.js'

/** The handler and its optional schema, from `handle(event, handler)` or `handle(event, schema, handler)`. */
export function handlerArgs(event: string, schemaOrHandler: unknown, maybeHandler: unknown) {
  const [schema, handler] =
    maybeHandler === undefined
      ? [undefined, schemaOrHandler as AnyHandler<ClientConnection>]
      : [schemaOrHandler as StandardSchemaV1, maybeHandler as AnyHandler<ClientConnection>]
  if (typeof handler !== 'function')
    throw new TypeError('handle(event, schema?, handler): handler is missing')
  if (event.startsWith('$')) throw new TypeError(`handle("${event}"): names starting with $ are reserved`)
  if (schema !== undefined && typeof schema['~standard']?.validate !== 'function') {
    throw new TypeError('handle(event, schema, handler): schema is not a Standard Schema validator')
  }
  return { schema, handler }
}
