// What the snippets of docs/scaling.md use without defining it (see docs/test/snippets.ts).
export { SwitchboardClient } from '@switchboard/client'
