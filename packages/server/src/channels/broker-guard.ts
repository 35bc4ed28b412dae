/**
 * The broker as the server's parts use it: every broker failure, on every operation, becomes an
 * answer a client can act on, and is logged without flooding the log during an outage.
 *
 * - `timeout`: the broker was handed the operation but did not confirm it (`isOutcomeUnknown`):
 *   it may still take effect — a publish may still land. A retry with the same idempotency key
 *   lands once.
 * - `unavailable`: any other failure. Nothing was applied; the same call is safe to retry.
 *
 * A `SwitchboardError` a broker throws itself passes through unchanged. Subscriptions, the
 * channel hub, the built-in requests and `sb.publish` all get the guarded broker; `sb.broker`
 * stays the application's own object.
 */
import type {
  Broker,
  BrokerListener,
  BrokerPresenceApi,
  BrokerRevocationsApi,
  BrokerUsersApi,
  ControlCommand,
  ControlHandler,
  ControlOptions,
  HistoryResult,
  PresenceRemoveOptions,
  PublishOptions,
  RecentOptions,
  RoutedEvent,
  RouteHandler,
} from '@switchboard/broker'
import { isOutcomeUnknown } from '@switchboard/broker'
import { ErrorCode, type JsonValue, type PresenceMember, type StreamPosition } from '@switchboard/protocol'
import type { Logger } from '../api.js'
import { SwitchboardError } from '../errors.js'

export interface BrokerGuardOptions {
  /**
   * During an outage, at most one failure is logged per this many milliseconds; the next line
   * says how many were left out. Default 10 s.
   */
  reportEveryMs?: number
  /** Clock in milliseconds; injectable for tests. */
  now?: () => number
  /** Told of every failure (the server counts them for its stats). */
  onFailure?: () => void
}

/**
 * The answer for a broker failure: what the client is told (a generic message: the broker's own
 * may name hosts or keys). The broker's error is kept as `cause` for the server's log and for
 * `sb.publish` callers.
 */
export function brokerFailure(err: unknown): SwitchboardError {
  if (err instanceof SwitchboardError) return err
  const answer = isOutcomeUnknown(err)
    ? new SwitchboardError(
        ErrorCode.TIMEOUT,
        'the broker did not confirm in time; it may still be applied (retry with the same key)',
      )
    : new SwitchboardError(ErrorCode.UNAVAILABLE, 'the broker is unavailable; nothing was applied')
  answer.cause = err
  return answer
}

/**
 * Logs broker failures: the first of an outage at once, then at most one line per
 * `reportEveryMs` (with the count of those left out), and one line when the broker answers again.
 */
class FailureLog {
  private nextReport = 0
  private unreported = 0
  private failing = false

  constructor(
    private readonly log: Logger,
    private readonly everyMs: number,
    private readonly now: () => number,
  ) {}

  failed(operation: string, channel: string, answer: SwitchboardError, err: unknown): void {
    this.failing = true
    const at = this.now()
    if (at < this.nextReport) {
      this.unreported++
      return
    }
    const more = this.unreported > 0 ? ` (and ${this.unreported} more broker failures not logged)` : ''
    this.unreported = 0
    this.nextReport = at + this.everyMs
    this.log.error(
      `broker ${operation} on ${JSON.stringify(channel)} failed, answered ${answer.code}${more}:`,
      err,
    )
  }

  succeeded(): void {
    if (!this.failing) return
    this.failing = false
    const more = this.unreported > 0 ? ` (${this.unreported} more failures were not logged)` : ''
    this.unreported = 0
    this.nextReport = 0
    this.log.info(`broker answers again${more}`)
  }
}

/** Wraps `broker` so that each failure is logged (see FailureLog) and thrown as `brokerFailure(err)`. */
export function guardBroker(broker: Broker, log: Logger, options: BrokerGuardOptions = {}): Broker {
  const failures = new FailureLog(log, options.reportEveryMs ?? 10_000, options.now ?? Date.now)
  const guard = async <T>(operation: string, channel: string, call: () => Promise<T>): Promise<T> => {
    let value: T
    try {
      value = await call()
    } catch (err) {
      const answer = brokerFailure(err)
      options.onFailure?.()
      failures.failed(operation, channel, answer, err)
      throw answer
    }
    failures.succeeded()
    return value
  }
  const presence: BrokerPresenceApi = {
    add: (channel: string, member: PresenceMember) =>
      guard('presence add', channel, () => broker.presence.add(channel, member)),
    remove: (channel: string, connectionId: string, removeOptions?: PresenceRemoveOptions) =>
      guard('presence remove', channel, () => broker.presence.remove(channel, connectionId, removeOptions)),
    update: (channel: string, connectionId: string, info: JsonValue) =>
      guard('presence update', channel, () => broker.presence.update(channel, connectionId, info)),
    list: (channel: string) => guard('presence list', channel, () => broker.presence.list(channel)),
    users: (channel: string) => guard('presence users', channel, () => broker.presence.users(channel)),
    counts: (channel: string) => guard('presence counts', channel, () => broker.presence.counts(channel)),
  }
  const users: BrokerUsersApi = {
    add: (user, connectionId, info, addOptions) =>
      guard('users add', user, () => broker.users.add(user, connectionId, info, addOptions)),
    remove: (connectionId) => guard('users remove', connectionId, () => broker.users.remove(connectionId)),
    list: (user) => guard('users list', user, () => broker.users.list(user)),
    count: (user) => guard('users count', user, () => broker.users.count(user)),
  }
  const revocations: BrokerRevocationsApi = {
    add: (revocation) =>
      guard('revoke', 'jti' in revocation ? 'token' : 'user', () => broker.revocations.add(revocation)),
    list: () => guard('revocations list', '*', () => broker.revocations.list()),
    onRevocation: (listener) => broker.revocations.onRevocation(listener),
  }
  const guarded: Broker = {
    get nodeId() {
      return broker.nodeId
    },
    presence,
    users,
    revocations,
    publish: (channel: string, data: JsonValue, publishOptions?: PublishOptions): Promise<StreamPosition> =>
      guard('publish', channel, () => broker.publish(channel, data, publishOptions)),
    subscribe: (channel: string, listener: BrokerListener) =>
      guard('subscribe', channel, () => broker.subscribe(channel, listener)),
    unsubscribe: (channel: string) => guard('unsubscribe', channel, () => broker.unsubscribe(channel)),
    position: (channel: string) => guard('position', channel, () => broker.position(channel)),
    history: (channel: string, since: StreamPosition): Promise<HistoryResult> =>
      guard('history', channel, () => broker.history(channel, since)),
    recent: (channel: string, limit: number, options?: RecentOptions) =>
      guard('recent', channel, () => broker.recent(channel, limit, options)),
    route: (connectionId: string, routed: RoutedEvent) => broker.route(connectionId, routed),
    onRoute: (handler: RouteHandler) => broker.onRoute(handler),
    control: (command: ControlCommand, controlOptions?: ControlOptions) =>
      guard('control', command.type, () => broker.control(command, controlOptions)),
    onControl: (handler: ControlHandler) => broker.onControl(handler),
    close: () => broker.close(),
  }
  return guarded
}
