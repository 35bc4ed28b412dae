/**
 * The address `sb.ready` resolves with: the main listener's, and with the HTTP API where that
 * answers too — on its own listener or under `/api` on the main port.
 */
import type { AddressInfo } from 'node:net'
import type { ServerAddress } from '../api.js'

/**
 * The server's address once it listens; with the HTTP API, where that answers too: on its own
 * listener (`api` is its address) or on the main port (`true`).
 */
export async function whenReady(
  main: Promise<ServerAddress>,
  api: Promise<AddressInfo> | true | undefined,
): Promise<ServerAddress> {
  const [address, own] = await Promise.all([main, api === true ? undefined : api])
  if (api === undefined) return address
  const http = address.url.startsWith('wss:') ? 'https' : 'http'
  const hostOf = (url: string) => new URL(url).hostname
  if (own === undefined) {
    return {
      ...address,
      api: { port: address.port, url: `${http}://${hostOf(address.url)}:${address.port}/api` },
    }
  }
  const host = own.family === 'IPv6' ? `[${own.address}]` : own.address
  const shown = own.address === '::' || own.address === '0.0.0.0' ? 'localhost' : host
  return { ...address, api: { port: own.port, url: `http://${shown}:${own.port}/api` } }
}
