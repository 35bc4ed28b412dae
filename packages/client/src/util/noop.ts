/** Does nothing: for a listener or a `.catch` that must exist but has nothing to do. */
export function noop(): void {}
