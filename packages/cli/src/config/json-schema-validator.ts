/**
 * A channel's `schema` from the configuration file — a JSON Schema, since a file cannot hold a
 * zod or valibot validator — compiled with ajv into the Standard Schema validator the server's
 * `schema` channel option takes. A schema that does not compile is a configuration error; a value
 * that fails it gives one issue per ajv error, with its path.
 */
import type { ChannelOptions } from '@switchboard/server'
import { Ajv, type ErrorObject } from 'ajv'
import type { JsonSchema } from './config.js'

type StandardValidator = NonNullable<ChannelOptions['schema']>

// Strict about the schema itself (an unknown keyword is most likely a typo), lenient about what
// only makes its types redundant.
const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, logger: false })

/** A JSON pointer (`/items/0/name`) as path segments, numbers for array indexes. */
function pathOf(pointer: string): Array<string | number> {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
}

function issueOf(error: ErrorObject): { message: string; path: Array<string | number> } {
  const path = pathOf(error.instancePath)
  if (error.keyword === 'additionalProperties') {
    const key = String((error.params as { additionalProperty: string }).additionalProperty)
    return { message: `unknown field "${key}"`, path: [...path, key] }
  }
  return { message: error.message ?? error.keyword, path }
}

/** Compiles `schema`; throws ajv's error (the caller names the key) if it is not a valid schema. */
export function jsonSchemaValidator(schema: JsonSchema): StandardValidator {
  const check = ajv.compile(schema)
  return {
    '~standard': {
      version: 1,
      vendor: 'switchboard-json-schema',
      validate: (value) => (check(value) ? { value } : { issues: (check.errors ?? []).map(issueOf) }),
    },
  }
}
