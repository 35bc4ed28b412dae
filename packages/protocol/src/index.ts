/**
 * @switchboard/protocol — the v1 wire protocol: frame types, the JSON codec, close and error
 * codes, limits, and the wire format of the HTTP transports. Zero runtime dependencies; runs in
 * browsers and Node alike.
 */
export * from './codes.js'
export * from './data.js'
export type * from './event-map.js'
export type * from './frames.js'
export { CLIENT_FRAME_TYPES, SERVER_FRAME_TYPES } from './frames.js'
export * from './http-transport.js'
export {
  type Codec,
  checkFrame,
  decodeClientFrame,
  decodeServerFrame,
  encodeFrame,
  jsonCodec,
  jsonText,
} from './json-codec.js'
export * from './limits.js'
export { ProtocolError } from './protocol-error.js'
export * from './resume.js'
export { defineSchemas, type InferEventMap, type PatternNames, type SchemaMap } from './schema-map.js'
export { SwitchboardError } from './switchboard-error.js'
export type { Direction } from './validate.js'
