/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the same JSON Schemas the server
 * validates with (schemas.ts): one path per method, its request and answer as components, and the
 * errors each can give. Served at `/api/openapi.json`.
 */
import type { TSchema } from '@sinclair/typebox'
import { ErrorResponse, METHODS, type MethodDefinition } from './schemas.js'

/** A schema as plain JSON (TypeBox's own symbol-keyed annotations left out). */
const plain = (schema: TSchema): Record<string, unknown> => JSON.parse(JSON.stringify(schema))

const capitalised = (name: string) => name[0]!.toUpperCase() + name.slice(1)

const ERRORS: Record<string, string> = {
  '400':
    'The body is not JSON (`invalid_json`), has unknown, missing or mistyped fields (`invalid_frame`, naming them), an invalid channel name (`invalid_channel`), or data the channel does not accept (`invalid_payload`).',
  '401': 'No `Authorization: Bearer <key>`, or a key that is not configured (`unauthorized`).',
  '403':
    'A publish-only key on another method, a read-only key on a method that acts, or a channel without history / presence (`forbidden`).',
  '413': 'The body is over the limit (`frame_too_large`).',
  '500': 'An unexpected failure (`internal`); nothing about it is exposed.',
  '503': 'The broker could not take it (`unavailable`): nothing was applied, retry.',
  '504': 'The broker did not confirm a publish that may still land (`timeout`): retry with the same `key`.',
}

const ACCESS_NOTE: Record<MethodDefinition['access'], string> = {
  publish: ' Publish-only keys may call it.',
  read: ' Read-only keys may call it.',
  full: '',
  any: ' Every key may call it.',
}

function operation(name: string, method: MethodDefinition) {
  const type = capitalised(name)
  const errors = Object.fromEntries(
    Object.entries(ERRORS).map(([status, description]) => [
      status,
      { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    ]),
  )
  return {
    post: {
      operationId: name,
      summary: method.summary,
      description: `${method.description}${ACCESS_NOTE[method.access]}`,
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { $ref: `#/components/schemas/${type}Request` } } },
      },
      responses: {
        '200': {
          description: 'Done.',
          content: { 'application/json': { schema: { $ref: `#/components/schemas/${type}Response` } } },
        },
        ...errors,
      },
    },
  }
}

/** A GET that answers an event stream (`text/event-stream`). */
function stream(operationId: string, summary: string, description: string, parameters: unknown[]) {
  return {
    get: {
      operationId,
      summary,
      description,
      parameters,
      responses: {
        '200': {
          description: 'The stream.',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
        '401': { description: ERRORS['401'] },
        '403': { description: 'A publish-only key (`forbidden`).' },
      },
    },
  }
}

export function openApiDocument(version: string): Record<string, unknown> {
  const schemas: Record<string, unknown> = { Error: plain(ErrorResponse) }
  const paths: Record<string, unknown> = {}
  for (const [name, method] of Object.entries(METHODS) as Array<[string, MethodDefinition]>) {
    schemas[`${capitalised(name)}Request`] = plain(method.request)
    schemas[`${capitalised(name)}Response`] = plain(method.response)
    paths[`/api/${name}`] = operation(name, method)
  }
  paths['/api/stats/stream'] = stream(
    'statsStream',
    'The stats stream',
    'Server-Sent Events: a `backlog` event with the samples kept (up to 15 minutes), then a `sample` event every second — the cluster’s and each node’s numbers, and the alerts that fire. Read-only and full keys.',
    [],
  )
  paths['/api/tail'] = stream(
    'tail',
    'A channel’s live messages',
    'Server-Sent Events: a `message` event `{ channel, epoch, offset, data }` for each message published on the channel from now on. Read-only and full keys.',
    [{ name: 'channel', in: 'query', required: true, schema: { type: 'string' } }],
  )
  paths['/api/openapi.json'] = {
    get: {
      operationId: 'openapi',
      summary: 'This document',
      security: [],
      responses: { '200': { description: 'The OpenAPI 3.1 document.', content: { 'application/json': {} } } },
    },
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Switchboard server API',
      version,
      description:
        'For backends: publish, read history and presence, and act on users’ connections on every node. JSON in, JSON out; errors are `{ "error": { "code", "message", "details"? } }` with the protocol’s error codes.',
    },
    security: [{ apiKey: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'One of the keys in the server’s `httpApi.keys`.',
        },
      },
    },
  }
}
