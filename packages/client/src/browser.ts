/**
 * @switchboard/client for browsers (the `browser` export condition): the global WebSocket only,
 * no Node built-ins, nothing from `ws`.
 */
export * from './core.js'
