// The transport contract (@switchboard/testing) over each of the server's transports, each
// delivering to a peer on another one: WebSocket → SSE → long-polling → WebSocket.
import {
  describeTransportContract,
  longPollingClient,
  sseClient,
  websocketClient,
} from '@switchboard/testing'

describeTransportContract('WebSocket', websocketClient, { name: 'SSE', client: sseClient })
describeTransportContract('SSE', sseClient, { name: 'long-polling', client: longPollingClient })
describeTransportContract('long-polling', longPollingClient, { name: 'WebSocket', client: websocketClient })
