/** A request URL's path, without its query: what the HTTP side routes on. */
export function pathnameOf(url: string | undefined): string {
  const q = url?.indexOf('?') ?? -1
  return url === undefined ? '/' : q === -1 ? url : url.slice(0, q)
}
