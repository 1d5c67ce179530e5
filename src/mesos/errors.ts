/**
 * Error kinds of the Mesos HTTP clients. Callers branch on `kind` (or the class), never on message text.
 */

export type MesosErrorKind =
  | 'bad-request' // 400: malformed call, or a call the master rejects (e.g. framework id mismatch)
  | 'unauthorized' // 401: missing/invalid credentials
  | 'forbidden' // 403: authenticated but not authorized
  | 'not-found' // 404: wrong endpoint path
  | 'not-acceptable' // 406: Accept header not supported
  | 'unsupported-media-type' // 415: Content-Type not supported
  | 'service-unavailable' // 503: master not ready / no leader yet
  | 'unexpected-status' // any other non-2xx
  | 'too-many-redirects'
  | 'bad-redirect'
  | 'connection' // refused, reset, DNS, TLS…
  | 'protocol' // undecodable stream, missing headers, first event not SUBSCRIBED
  | 'heartbeat-timeout'
  | 'not-subscribed'
  | 'stopped'
  | 'error-event'; // the master/agent sent an ERROR event

export class MesosClientError extends Error {
  readonly kind: MesosErrorKind;
  constructor(kind: MesosErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = new.target.name;
  }
}

/** A non-2xx answer from a master or agent; `.status` and the response body text are kept. */
export class MesosHttpError extends MesosClientError {
  readonly status: number;
  readonly body: string;
  readonly url: string;
  constructor(kind: MesosErrorKind, status: number, body: string, url: string) {
    const text = body.trim();
    super(kind, `${url} answered ${status}${text ? `: ${text.slice(0, 500)}` : ''}`);
    this.status = status;
    this.body = body;
    this.url = url;
  }
}

export class BadRequestError extends MesosHttpError {
  constructor(body: string, url: string) {
    super('bad-request', 400, body, url);
  }
}
export class UnauthorizedError extends MesosHttpError {
  constructor(body: string, url: string) {
    super('unauthorized', 401, body, url);
  }
}
export class ForbiddenError extends MesosHttpError {
  constructor(body: string, url: string) {
    super('forbidden', 403, body, url);
  }
}
export class NotFoundError extends MesosHttpError {
  constructor(body: string, url: string) {
    super('not-found', 404, body, url);
  }
}
export class NotAcceptableError extends MesosHttpError {
  constructor(body: string, url: string) {
    super('not-acceptable', 406, body, url);
  }
}
export class UnsupportedMediaTypeError extends MesosHttpError {
  constructor(body: string, url: string) {
    super('unsupported-media-type', 415, body, url);
  }
}
export class ServiceUnavailableError extends MesosHttpError {
  constructor(body: string, url: string) {
    super('service-unavailable', 503, body, url);
  }
}
export class UnexpectedStatusError extends MesosHttpError {
  constructor(status: number, body: string, url: string) {
    super('unexpected-status', status, body, url);
  }
}

/** Maps a non-2xx, non-307 status to its typed error. */
export function errorForStatus(status: number, body: string, url: string): MesosHttpError {
  switch (status) {
    case 400:
      return new BadRequestError(body, url);
    case 401:
      return new UnauthorizedError(body, url);
    case 403:
      return new ForbiddenError(body, url);
    case 404:
      return new NotFoundError(body, url);
    case 406:
      return new NotAcceptableError(body, url);
    case 415:
      return new UnsupportedMediaTypeError(body, url);
    case 503:
      return new ServiceUnavailableError(body, url);
    default:
      return new UnexpectedStatusError(status, body, url);
  }
}

export class NotSubscribedError extends MesosClientError {
  constructor(message = 'not subscribed: calls other than SUBSCRIBE are refused until SUBSCRIBED arrives') {
    super('not-subscribed', message);
  }
}

export class ConnectionError extends MesosClientError {
  /** errno code of the underlying failure (ECONNREFUSED, ECONNRESET, …) when there is one. */
  readonly code: string | undefined;
  constructor(message: string, cause?: unknown) {
    super('connection', message, { cause });
    this.code = (cause as { code?: unknown } | undefined)?.code as string | undefined;
  }
}

export class ProtocolError extends MesosClientError {
  constructor(message: string, cause?: unknown) {
    super('protocol', message, { cause });
  }
}

export class HeartbeatTimeoutError extends MesosClientError {
  constructor(readonly silentMs: number) {
    super('heartbeat-timeout', `no event for ${silentMs} ms: subscription stream treated as dead`);
  }
}

export class ErrorEventError extends MesosClientError {
  constructor(readonly mesosMessage: string) {
    super('error-event', `ERROR event: ${mesosMessage}`);
  }
}

/** Whether a failed request is worth retrying on the same or another endpoint (as opposed to a caller bug). */
export function isRetryable(err: unknown): boolean {
  if (!(err instanceof MesosClientError)) return false;
  return ['service-unavailable', 'connection', 'protocol', 'heartbeat-timeout', 'too-many-redirects', 'unexpected-status', 'error-event'].includes(err.kind);
}
