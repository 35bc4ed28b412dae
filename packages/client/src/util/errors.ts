/**
 * The one error type the client rejects with, shared with the server (it lives in the protocol
 * package). `code` is a stable string from the protocol's error table — a server code from a
 * failed reply (`invalid_payload`, `forbidden`…) or one of the client-side codes `timeout`,
 * `disconnected`, `cancelled`, `limit_exceeded`.
 */
export { SwitchboardError } from '@switchboard/protocol'
