/** The transport contract suite and the client factories its runners pass to it. */
export {
  type ClientFactory,
  type ContractClient,
  longPollingClient,
  sseClient,
  websocketClient,
} from './contract-client.js'
export { type ContractPeer, describeTransportContract } from './describe-transport-contract.js'
