/** @switchboard/redis — the Redis broker (in progress). */
export {}
