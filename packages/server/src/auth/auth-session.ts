/**
 * Token sessions: the lifetime of each connection's credentials, for a server given `tokenAuth`
 * (what `jwtAuth()` builds). A connection whose handshake carried no token is *pending*: it may
 * send only `auth` and `ping` until a token is accepted, and is closed with 4001 if none is within
 * `authTimeout`. A connection whose credentials expire is sent a `refresh` frame before they do
 * and closed with 4001 when they have; a fresh token must name the same subject, or the
 * connection is closed with 4003. A revoked token (see revocations.ts) is refused at the
 * handshake and in an `auth` frame, and a connection whose token is revoked later is closed with
 * 4001. The server calls in here; nothing here knows about JWT.
 */
import type { IncomingMessage } from 'node:http'
import { closeFor, ErrorCode, type ServerFrame } from '@switchboard/protocol'
import { SwitchboardError } from '../errors.js'

type MaybePromise<T> = T | Promise<T>

/** What a verified token gives a connection. */
export interface Credentials<D> {
  /** Becomes `conn.data` (and replaces it on every accepted refresh). */
  data: D
  /** Who the token is for (a JWT's `sub`): pinned on first use, a refresh must keep it. */
  subject?: string
  /** When the credentials stop being valid, in milliseconds since the epoch; absent = never. */
  expiresAt?: number
  /** The token's own id (a JWT's `jti`): what `sb.revoke({ jti })` names. Absent: revocable by user only. */
  tokenId?: string
  /**
   * When the token was issued, in milliseconds since the epoch (a JWT's `iat`): `sb.revoke({ user,
   * issuedBefore })` covers it if earlier. Absent: every revocation of its subject covers it.
   */
  issuedAt?: number
}

/** What token sessions ask about revocations (revocations.ts answers). */
export interface RevocationCheck {
  /** Settles once the known revocations are as current as they can be now (never rejects). */
  current(): Promise<void>
  /** Whether a revocation known now covers these credentials. */
  covers(credentials: Credentials<unknown>): boolean
}

/** The reason a revoked token's connection is closed (4001) or its `auth` frame refused with. */
export const TOKEN_REVOKED = 'token revoked'

/**
 * Token authentication with a lifecycle. Throw SwitchboardError `unauthorized` to refuse a
 * token, `unavailable` when it cannot be checked right now (a key server is down); anything else
 * counts as `unavailable` too, and is logged.
 */
export interface TokenAuth<D> {
  /** The handshake's token, verified; `undefined` when the request carries none and may send one later. */
  fromRequest(req: IncomingMessage): MaybePromise<Credentials<D> | undefined>
  /**
   * A token from an `auth` frame (the first one of a pending connection, or a refresh), with the
   * connection it came on.
   */
  verify(token: string, conn: SessionConnection): MaybePromise<Credentials<D>>
  /** Milliseconds before expiry to send `refresh` (at most half the token's remaining life). Default 30 000. */
  refreshBefore?: number
  /** Milliseconds a pending connection has to authenticate before it is closed with 4001. Default 10 000. */
  authTimeout?: number
}

/**
 * Thrown by a `TokenAuth` to end the connection with a close code rather than an HTTP status (at
 * the handshake: it is accepted, then closed at once, so that the client sees the code — a browser
 * sees only 1006 for a refused handshake) or a mere reply (an `auth` frame: answered with `code`,
 * then closed).
 */
export class CloseConnection extends SwitchboardError {
  constructor(
    code: string,
    readonly closeCode: number,
    reason: string,
  ) {
    super(code, reason)
  }
}

/** What a session needs from a connection. */
export interface SessionConnection {
  readonly id: string
  data: unknown
  readonly state: string
  sendFrame(frame: ServerFrame): boolean
  close(code: number, reason: string): void
}

interface Session {
  authenticated: boolean
  subject: string | undefined
  /** The credentials last accepted (what a revocation is checked against). */
  credentials: Credentials<unknown> | undefined
  timer: NodeJS.Timeout | undefined
  /** Runs once, when a pending connection authenticates (the server's `connection` event). */
  onAuthenticated: (() => void) | undefined
}

/** setTimeout's longest delay; a longer one would fire at once. */
const MAX_DELAY = 2 ** 31 - 1

export class TokenSessions<C extends SessionConnection> {
  private readonly sessions = new Map<C, Session>()
  private readonly refreshBefore: number
  private readonly authTimeout: number

  constructor(
    private readonly auth: TokenAuth<unknown>,
    private readonly onUnexpected: (message: string, err: unknown) => void,
    private readonly revocations?: RevocationCheck,
  ) {
    this.refreshBefore = auth.refreshBefore ?? 30_000
    this.authTimeout = auth.authTimeout ?? 10_000
  }

  /**
   * Verifies the handshake's token; throws SwitchboardError (`unauthorized` → 401, `forbidden` →
   * 403, `unavailable` → 503) or CloseConnection (accepted, then closed with its code).
   */
  async fromRequest(req: IncomingMessage): Promise<Credentials<unknown> | undefined> {
    let credentials: Credentials<unknown> | undefined
    try {
      credentials = await this.auth.fromRequest(req)
    } catch (err) {
      throw this.refusal(err)
    }
    if (credentials && (await this.revoked(credentials))) {
      throw new SwitchboardError(ErrorCode.UNAUTHORIZED, TOKEN_REVOKED)
    }
    return credentials
  }

  /**
   * Starts a connection's session: authenticated with `credentials`, or pending without them.
   * `onAuthenticated` runs now, or once the first token is accepted (never, if none is).
   */
  start(conn: C, credentials: Credentials<unknown> | undefined, onAuthenticated: () => void): void {
    const session: Session = {
      authenticated: false,
      subject: undefined,
      credentials: undefined,
      timer: undefined,
      onAuthenticated,
    }
    this.sessions.set(conn, session)
    if (credentials) {
      this.accept(conn, session, credentials)
      return
    }
    // The pending connection holds the handshake request (for `onAuthenticated`) this long at most.
    this.schedule(session, Date.now() + this.authTimeout, () =>
      this.close(conn, closeFor(ErrorCode.UNAUTHORIZED), 'no token in time'),
    )
  }

  /** Whether the connection may do more than `auth` and `ping`. Connections without a session may not. */
  authenticated(conn: C): boolean {
    return this.sessions.get(conn)?.authenticated === true
  }

  subject(conn: C): string | undefined {
    return this.sessions.get(conn)?.subject
  }

  /**
   * Answers an `auth` frame. A refused first token closes the connection (4001, or 1013 when the
   * token could not be checked) after the reply; a refused refresh leaves it until its expiry; a
   * token for another subject closes it with 4003.
   */
  async onToken(conn: C, token: string): Promise<undefined> {
    const session = this.sessions.get(conn)
    if (!session) throw new SwitchboardError(ErrorCode.UNAUTHORIZED, 'this connection takes no tokens')
    let credentials: Credentials<unknown>
    try {
      credentials = await this.auth.verify(token, conn)
    } catch (err) {
      const refusal = this.refusal(err)
      if (refusal instanceof CloseConnection) {
        this.closeAfterReply(conn, refusal.closeCode, refusal.message)
      } else if (!session.authenticated) {
        const code = closeFor(
          refusal.code === ErrorCode.UNAVAILABLE ? ErrorCode.UNAVAILABLE : ErrorCode.UNAUTHORIZED,
        )
        this.closeAfterReply(conn, code, refusal.message)
      }
      throw refusal
    }
    if (this.sessions.get(conn) !== session || conn.state === 'closed') return undefined
    if (await this.revoked(credentials)) {
      this.closeAfterReply(conn, closeFor(ErrorCode.UNAUTHORIZED), TOKEN_REVOKED)
      throw new SwitchboardError(ErrorCode.UNAUTHORIZED, TOKEN_REVOKED)
    }
    if (session.subject !== undefined && credentials.subject !== session.subject) {
      this.closeAfterReply(conn, closeFor(ErrorCode.FORBIDDEN), 'token subject changed')
      throw new SwitchboardError(
        ErrorCode.FORBIDDEN,
        'a token for another subject: this connection is not yours',
      )
    }
    this.accept(conn, session, credentials)
    return undefined
  }

  /**
   * Closes, with 4001 `token revoked`, every authenticated connection whose credentials `covers`
   * says are revoked; how many. A pass over this node's sessions.
   */
  closeRevoked(covers: (credentials: Credentials<unknown>) => boolean): number {
    let closed = 0
    for (const [conn, session] of this.sessions) {
      if (!session.authenticated || !session.credentials || conn.state !== 'open') continue
      if (!covers(session.credentials)) continue
      this.close(conn, closeFor(ErrorCode.UNAUTHORIZED), TOKEN_REVOKED)
      closed++
    }
    return closed
  }

  /** The connection closed: its timer goes. */
  end(conn: C): void {
    const session = this.sessions.get(conn)
    if (session?.timer !== undefined) clearTimeout(session.timer)
    this.sessions.delete(conn)
  }

  private accept(conn: C, session: Session, credentials: Credentials<unknown>): void {
    conn.data = credentials.data
    session.subject ??= credentials.subject
    session.credentials = credentials
    session.authenticated = true
    const { expiresAt } = credentials
    if (expiresAt === undefined) {
      this.schedule(session, undefined, () => {})
    } else {
      const remaining = expiresAt - Date.now()
      // At most half the remaining life, so a client whose tokens are all short is not asked in a loop.
      const askAt = expiresAt - Math.min(this.refreshBefore, remaining / 2)
      this.schedule(session, askAt, () => {
        conn.sendFrame({ type: 'refresh', expiresIn: Math.max(0, Math.round(expiresAt - Date.now())) })
        this.schedule(session, expiresAt, () =>
          this.close(conn, closeFor(ErrorCode.UNAUTHORIZED), 'token expired'),
        )
      })
    }
    const announce = session.onAuthenticated
    session.onAuthenticated = undefined
    announce?.()
    // A revocation that arrived between the check and now (the handshake's upgrade) still counts.
    if (this.revocations?.covers(credentials)) {
      this.closeAfterReply(conn, closeFor(ErrorCode.UNAUTHORIZED), TOKEN_REVOKED)
    }
  }

  /** Whether the credentials are revoked, once the known revocations are current. */
  private async revoked(credentials: Credentials<unknown>): Promise<boolean> {
    if (!this.revocations) return false
    await this.revocations.current()
    return this.revocations.covers(credentials)
  }

  /** Replaces the session's timer with one that runs `run` at `at` (ms since the epoch). */
  private schedule(session: Session, at: number | undefined, run: () => void): void {
    if (session.timer !== undefined) clearTimeout(session.timer)
    session.timer = undefined
    if (at === undefined) return
    const delay = Math.max(0, at - Date.now())
    // Long delays go in steps: a token valid for a month must not expire at once.
    session.timer =
      delay > MAX_DELAY
        ? setTimeout(() => this.schedule(session, at, run), MAX_DELAY)
        : setTimeout(() => {
            session.timer = undefined
            run()
          }, delay)
    session.timer.unref()
  }

  private close(conn: C, code: number, reason: string): void {
    if (conn.state === 'open') conn.close(code, reason)
  }

  /** Closes once the reply that is being sent has been queued ahead of the close. */
  private closeAfterReply(conn: C, code: number, reason: string): void {
    setImmediate(() => this.close(conn, code, reason))
  }

  private refusal(err: unknown): SwitchboardError {
    if (
      err instanceof CloseConnection ||
      (err instanceof SwitchboardError &&
        (err.code === ErrorCode.UNAUTHORIZED ||
          err.code === ErrorCode.UNAVAILABLE ||
          err.code === ErrorCode.FORBIDDEN))
    ) {
      return err
    }
    this.onUnexpected('token check failed:', err)
    return new SwitchboardError(ErrorCode.UNAVAILABLE, 'the token could not be checked; try again later')
  }
}
