/**
 * @switchboard/testing — what Switchboard's tests share across packages (private, test-only):
 * free ports, `until`, a TCP proxy that can cut connections, recording clients for the WebSocket,
 * SSE and long-polling transports, a real server fixture, and the transport contract suite.
 */
export { type CloseInfo, FrameLog, type SeenFrame } from './frame-log.js'
export { freePort } from './free-port.js'
export { httpBase } from './http-url.js'
export { PollClient } from './poll-client.js'
export { prng } from './prng.js'
export { connect, RecordingSocket, type TestClient } from './recording-socket.js'
export { serverFixture, startServer, type TestServer } from './server-fixture.js'
export { SseClient } from './sse-client.js'
export { startProxy, type TcpProxy } from './tcp-proxy.js'
export {
  type ClientFactory,
  type ContractClient,
  type ContractPeer,
  describeTransportContract,
  longPollingClient,
  sseClient,
  websocketClient,
} from './transport-contract/index.js'
export { until } from './until.js'
export { type ReceivedWebhook, startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js'
