/** @switchboard/server/static — `serveStatic(root)`, a small static file handler for `onRequest`. */
export { serveStatic } from './http/static-files.js'
