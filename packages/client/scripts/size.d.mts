// Types for size.mjs, so the size test can call the same measurement the script prints.
export function measure(): Promise<{ min: number; gzip: number; inputs: string[] }>
