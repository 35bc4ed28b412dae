// The control channel between bench/run.mjs and its child processes (servers and load
// generators): each IPC message `{ id, op, ... }` runs `ops[op]`, and the reply carries the same
// id with the result or the error. The child exits when the orchestrator goes away.
export function answerControl(ops) {
  process.on('message', async (m) => {
    try {
      const r = await ops[m.op](m)
      process.send({ id: m.id, ...r })
    } catch (e) {
      process.send({ id: m.id, error: String(e?.stack ?? e) })
    }
  })
  process.on('disconnect', () => process.exit(0))
}
