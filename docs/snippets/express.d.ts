// docs/server.md mounts Switchboard beside an Express app, and express is not installed in the
// workspace: the little of its API that snippet uses (see docs/test/snippets.ts).
declare module 'express' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  interface Response extends ServerResponse {
    json(body: unknown): this
  }
  interface Express {
    (req: IncomingMessage, res: ServerResponse): void
    get(path: string, handler: (req: IncomingMessage, res: Response) => void): this
  }
  export default function express(): Express
}
