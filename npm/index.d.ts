// Type declarations for refine-live-wasm. Structurally compatible with
// @refinedev/core 5's LiveProvider and LiveEvent without depending on it.

/**
 * Connection state of a client. It only moves forward: idle → connecting →
 * open ⇄ reconnecting, and closed from any of them.
 *
 * - `idle`: nothing asked for a connection yet (no subscribe or publish),
 *   or the client runs on a server (SSR), where it never connects.
 * - `connecting`: working towards the first connection (loading live.wasm,
 *   dialing), and nothing has failed yet.
 * - `open`: connected; subscriptions are live.
 * - `reconnecting`: a load of live.wasm, a dial or a connection failed; the
 *   client retries with backoff (the reason went to `onError`).
 * - `closed`: for good: `close()` was called, the Go runtime exited, or the
 *   server refused the client (a terminal close code such as 4500
 *   unauthorized, reported as `ERR_CONNECTION_CLOSED`).
 */
export type LiveStatus = "idle" | "connecting" | "open" | "reconnecting" | "closed";

/**
 * Why the status changed. The engine's codes: connect_called (the first
 * subscribe or publish), opened, dial_failed, connection_lost,
 * server_closed (a close the client may reconnect after), heartbeat_timeout,
 * handshake_timeout, clock_jump (the machine slept, on a basic server),
 * terminal_close (the server refused the client for good), closed_by_app.
 * The shim's own: wasm_load_failed, wasm_exited, invalid_config.
 */
export type LiveStatusCode =
  | "connect_called"
  | "opened"
  | "dial_failed"
  | "connection_lost"
  | "server_closed"
  | "heartbeat_timeout"
  | "handshake_timeout"
  | "clock_jump"
  | "terminal_close"
  | "closed_by_app"
  | "wasm_load_failed"
  | "wasm_exited"
  | "invalid_config";

/** The reason of a status change: a stable code, and a message for people (an error's text, a close reason, the URL that opened). */
export interface LiveStatusReason {
  code: LiveStatusCode;
  message: string;
}

/**
 * State of one subscription.
 *
 * - `queued`: waiting for live.wasm to load.
 * - `subscribing`: sent to the engine, not yet confirmed by the server (and
 *   again while it is resubscribed after a lost connection).
 * - `subscribed`: live (confirmed by an extended server, or sent on an open
 *   connection to a basic one).
 * - `refused`: the server refused the channel (forbidden, unauthorized,
 *   too large, subscription limit); the error went to `onError` once per
 *   channel with `ERR_SUBSCRIBE_REFUSED` and `err.channel`. It is tried
 *   again on the next connection, or when another subscriber of the
 *   channel arrives.
 * - `unsubscribed`: unsubscribed by the app, or the client closed.
 */
export type LiveSubscriptionState = "queued" | "subscribing" | "subscribed" | "refused" | "unsubscribed";

/** One subscription as `client.subscriptions()` and `onSubscriptionState` show it. */
export interface LiveSubscriptionInfo {
  /** The handle's `id`. */
  readonly id: number;
  readonly channel: string;
  readonly state: LiveSubscriptionState;
}

/** An event as subscribers receive it and as `publish` accepts it. */
export interface LiveEvent {
  channel: string;
  /** "created" | "updated" | "deleted" | "*" (resync) | any custom type. */
  type: "created" | "updated" | "deleted" | "*" | (string & {});
  payload: { ids?: Array<string | number>; [key: string]: any };
  /** Always a Date on events delivered to callbacks. */
  date: Date;
  meta?: { dataProviderName?: string; [key: string]: any };
}

/**
 * Delivered instead of missed events when they could not be replayed (for
 * example after a server restart or against a basic server): refetch.
 */
export interface ResyncEvent extends LiveEvent {
  type: "*";
  payload: { resync: true; reason: string; [key: string]: any };
}

/** What Refine passes to `subscribe`. */
export interface LiveSubscribeOptions {
  channel: string;
  /** @default ["*"] */
  types?: Array<LiveEvent["type"]>;
  callback: (event: LiveEvent) => void;
  params?: {
    subscriptionType?: "useList" | "useOne" | "useMany";
    resource?: string;
    id?: string | number;
    ids?: Array<string | number>;
    /** Refine's combined meta; `liveMode: "off"` makes the subscription inert. */
    meta?: { liveMode?: "auto" | "manual" | "off"; [key: string]: any };
    [key: string]: any;
  };
  meta?: { dataProviderName?: string; [key: string]: any };
}

/** What `subscribe` returns and `unsubscribe` takes: opaque, always truthy. */
export interface LiveSubscriptionHandle {
  readonly channel: string;
  readonly id: number;
}

/** The error passed to `onError`. */
export interface LiveError extends Error {
  code: LiveErrorCode | (string & {});
  /** The channel of a refused subscribe or publish (`ERR_SUBSCRIBE_REFUSED`, `ERR_PUBLISH_REFUSED`, `ERR_RATE_LIMITED`). */
  channel?: string;
  /** The server's own code for a refusal: "forbidden", "unauthorized", "too_large", "subscription_limit", "rate_limited", … */
  serverCode?: string;
  /** The WebSocket close code, when the server closed the connection (`ERR_CONNECTION_CLOSED`, some `ERR_CONNECTION`). */
  closeCode?: number;
}

/** Every code an error passed to `onError` can carry (the README's table says when each occurs). */
export type LiveErrorCode =
  | "ERR_INVALID_ARGUMENT"
  | "ERR_NOT_SERIALIZABLE"
  | "ERR_PAYLOAD_TOO_LARGE"
  | "ERR_QUEUE_FULL"
  | "ERR_CLOSED"
  | "ERR_CALLBACK"
  | "ERR_CONNECTION"
  | "ERR_CONNECTION_CLOSED"
  | "ERR_TOKEN"
  | "ERR_SUBSCRIBE_REFUSED"
  | "ERR_PUBLISH_REFUSED"
  | "ERR_RATE_LIMITED"
  | "ERR_SERVER"
  | "ERR_WASM_LOAD"
  | "ERR_WASM_EXITED"
  | "ERR_VERSION_MISMATCH"
  | "ERR_UNSUPPORTED_ENVIRONMENT"
  | "ERR_INTERNAL";

export declare const ErrorCodes: Readonly<{
  INVALID_ARGUMENT: "ERR_INVALID_ARGUMENT";
  NOT_SERIALIZABLE: "ERR_NOT_SERIALIZABLE";
  PAYLOAD_TOO_LARGE: "ERR_PAYLOAD_TOO_LARGE";
  QUEUE_FULL: "ERR_QUEUE_FULL";
  CLOSED: "ERR_CLOSED";
  CALLBACK: "ERR_CALLBACK";
  CONNECTION: "ERR_CONNECTION";
  CONNECTION_CLOSED: "ERR_CONNECTION_CLOSED";
  TOKEN: "ERR_TOKEN";
  SUBSCRIBE_REFUSED: "ERR_SUBSCRIBE_REFUSED";
  PUBLISH_REFUSED: "ERR_PUBLISH_REFUSED";
  RATE_LIMITED: "ERR_RATE_LIMITED";
  SERVER: "ERR_SERVER";
  WASM_LOAD: "ERR_WASM_LOAD";
  WASM_EXITED: "ERR_WASM_EXITED";
  VERSION_MISMATCH: "ERR_VERSION_MISMATCH";
  UNSUPPORTED_ENVIRONMENT: "ERR_UNSUPPORTED_ENVIRONMENT";
  INTERNAL: "ERR_INTERNAL";
}>;

/** The socket a WebSocket constructor override must produce (a subset of the DOM WebSocket). */
export interface LiveWebSocket {
  readonly bufferedAmount: number;
  onopen: ((ev: any) => any) | null;
  onmessage: ((ev: { data: unknown }) => any) | null;
  onerror: ((ev: any) => any) | null;
  onclose: ((ev: { code: number; reason: string }) => any) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface LiveClientOptions {
  /**
   * WebSocket URL of the live server, or several tried in turn. http(s) URLs
   * and, in a page, relative URLs are accepted and mapped to ws(s).
   */
  url: string | string[];
  /**
   * Protocol level: "auto" speaks extended when the server answers the
   * client's hello and basic otherwise; "basic" and "extended" force one.
   * @default "auto"
   */
  protocol?: "auto" | "basic" | "extended";
  /**
   * Called before each connection attempt; its result authenticates the
   * connection (extended protocol). For liveserver with `--jwt-secret` it
   * is an HS256 JWT whose `sub_channels` and `pub_channels` claims list
   * the channel patterns allowed. A rejection is reported (`ERR_TOKEN`)
   * and retried with backoff.
   * @default undefined (no authentication)
   */
  getToken?: () => Promise<string> | string;
  /**
   * Delays between attempts (reconnections, and retries of a failed
   * live.wasm load): attempt n (0 for the first retry) waits
   * `minDelay + random·min(maxDelay − minDelay, minDelay·2^n)`, random in
   * [0, 1): never below minDelay, never above maxDelay, and spread over
   * the whole range once capped. A server's retry hint replaces it.
   */
  reconnect?: {
    /**
     * Floor of every delay, in ms; must be above 0.
     * @default 500
     */
    minDelay?: number;
    /**
     * Cap of the whole delay, in ms; at least minDelay.
     * @default 20000
     */
    maxDelay?: number;
  };
  /**
   * How long past the server's heartbeat interval a silent connection is
   * still trusted, in ms; must be above 0.
   * @default 10000
   */
  heartbeatGrace?: number;
  /**
   * Bounds of the queue of publishes made while disconnected (while
   * live.wasm loads and while the connection is down). When full the
   * oldest waiting publish is dropped to make room and reported with
   * ERR_QUEUE_FULL; a single event larger than maxBytes is refused with
   * ERR_PAYLOAD_TOO_LARGE.
   */
  publishQueue?: {
    /** @default 100 */
    maxCount?: number;
    /** @default 1048576 */
    maxBytes?: number;
  };
  /**
   * Drop events whose payload.ids miss the ids a useOne/useMany
   * subscription was made with ("created" events always pass). Off by
   * default: Refine keeps a subscription's ids when a page moves to
   * another record without remounting, and the filter would then hide the
   * new record's events. Safe only where every id change remounts.
   * @default false
   */
  filterIds?: boolean;
  /**
   * Merge each subscription's events arriving within this many ms into one
   * callback call, to spare Refine a refetch per event. 0 delivers each.
   * @default 0
   */
  coalesceMs?: number;
  /**
   * Deliver each channel's resync event after a random delay below this
   * many ms, so that a reconnect resyncing many resources does not make
   * them all refetch in the same instant. 0 delivers resyncs at once.
   * @default 250
   */
  resyncSpreadMs?: number;
  /**
   * Against a basic server, which cannot replay what a subscription missed
   * before it went live: a channel's first subscribe sent more than this
   * many ms after `subscribe()` was called (the page waited for live.wasm
   * and its socket) is followed by one resync event (reason "late"), so
   * that Refine refetches what may have changed in between. 0 never does.
   * liveserver replays that window instead (a first subscribe's `age`).
   * @default 1000
   */
  lateResyncMs?: number;
  /**
   * Where live.wasm is served from. The first client of a page decides:
   * there is one Go runtime per page.
   * @default new URL("./live.wasm", import.meta.url)
   */
  wasmURL?: string | URL;
  /**
   * Where the engine runs.
   * - "auto": "shared" where the browser has SharedWorker, else
   *   "dedicated" where it has Worker, else "none".
   * - "shared": in the shared worker (worker.js) of every tab of this
   *   origin, which loads live.wasm once and keeps one Go client, and so
   *   one WebSocket, per distinct configuration: a channel several tabs
   *   subscribe to is one server subscription. Each tab's callbacks get
   *   each event once; the echo of a publish is held back from the
   *   publishing tab only; every tab sees the shared connection's status;
   *   `getToken` is asked of a tab still there. A tab that goes away
   *   without closing its client (crashed, discarded) is noticed through
   *   a Web Lock (or, without Web Locks, its silence) and its
   *   subscriptions end after the linger. A shared worker restarted with
   *   fresh state is noticed by every tab, which registers its
   *   subscriptions there again and delivers one resync event (reason
   *   "worker_restart") to each.
   * - "dedicated": in a module worker of this client.
   * - "none": in the page.
   *
   * In a worker the page keeps everything the app sees: it runs
   * `getToken`, `onError` and the listeners, and watches the browser's
   * signals; `stats()` returns the counters the worker posted last, at
   * most 250 ms old, and `stats().mode` says where the engine runs. A
   * worker that fails to load (an error event, not ready within 20 s, or
   * another version of this package) is reported with `ERR_WASM_LOAD`
   * naming its URL, and the next mode is tried ("shared", "dedicated",
   * "none"). The `WebSocket` option cannot be sent to a worker: with it
   * the client runs in the page (reported as `ERR_INVALID_ARGUMENT` when
   * `worker` was given too).
   * @default "auto"
   */
  worker?: "auto" | "shared" | "dedicated" | "none";
  /**
   * Where worker.js is served from, for a worker mode. It loads
   * live.wasm from beside itself unless `wasmURL` is given.
   * @default new URL("./worker.js", import.meta.url)
   */
  workerURL?: string | URL;
  /**
   * Receives every problem: bad arguments, load failures, dropped publishes,
   * callbacks that threw. Nothing is ever thrown into Refine.
   * @default (err) => console.warn(...)
   */
  onError?: (error: LiveError) => void;
  /**
   * Print the engine's lifecycle to `console.debug`: status changes, dials,
   * the hello and the level chosen, close codes, subscribes and the
   * server's answers (with `since` and `recovered`: replays), resyncs,
   * refused subscribes, and every reported error. Events, publishes and
   * tokens are never printed.
   * @default false
   */
  debug?: boolean;
  /**
   * WebSocket constructor used for connections (for tests or a wrapper).
   * @default globalThis.WebSocket
   */
  WebSocket?: new (url: string) => LiveWebSocket;
  /**
   * Replaces the live.wasm loader (for tests): resolves to the runtime
   * whose `api.newClient` creates the engine.
   * @default the built-in loader
   */
  loadRuntime?: (wasmURL: string | URL | undefined) => Promise<LiveRuntime>;
}

/** What a custom `loadRuntime` resolves to. */
export interface LiveRuntime {
  api: { version: string; newClient(config: object, hooks: object): object };
  state(): "running" | "exited";
  onExit(listener: () => void): () => void;
}

export interface LiveClientStats {
  /** JS functions Go currently holds (for leak checks). */
  funcCount: number;
  /** Where the engine runs (see the `worker` option). */
  mode: "shared" | "dedicated" | "none";
  /** In a worker mode: the size of the worker's Go memory (its peak), which the page cannot see. */
  workerMemoryBytes?: number;
  /** In a worker mode: the tabs the worker serves (1 for a dedicated worker). */
  workerTabs?: number;
  /** In shared mode: the subscriptions the worker holds for this client's config, from every tab. */
  workerSubscriptions?: number;
  /** In a worker mode: when the worker read these counters (`Date.now()` there). */
  workerStatsAt?: number;
  /** Goroutines of the Go runtime (for leak checks). */
  goroutines?: number;
  /** Bytes of Go heap live at its last collection. */
  goLiveHeapBytes?: number;
  [key: string]: unknown;
}

export interface LiveClient {
  /** Resolves when the Go runtime runs this client; rejects when a load fails (the client retries, and `ready` then is a new promise). */
  readonly ready: Promise<void>;
  readonly status: LiveStatus;
  /** Calls `listener(status, previous, reason)` on every change; returns a remover. */
  onStatusChange(listener: (status: LiveStatus, previous: LiveStatus, reason: LiveStatusReason) => void): () => void;
  /** The subscriptions the app holds (subscribed and not yet unsubscribed), with their states. */
  subscriptions(): LiveSubscriptionInfo[];
  /** Calls `listener(subscription, previous)` on every change of a subscription's state; returns a remover. */
  onSubscriptionState(listener: (subscription: LiveSubscriptionInfo, previous: LiveSubscriptionState) => void): () => void;
  subscribe(options: LiveSubscribeOptions): LiveSubscriptionHandle;
  unsubscribe(handle: unknown): void;
  publish(event: LiveEvent | Omit<LiveEvent, "date">): void;
  /** Reconnect at once instead of waiting out the backoff. */
  reconnect(): void;
  /** Engine counters, or null before the runtime is ready or after close. */
  stats(): LiveClientStats | null;
  /** Closes the connection and releases every function Go created. Later calls report ERR_CLOSED. */
  close(): Promise<void>;
}

/** The object for `<Refine liveProvider={...}>`. */
export interface LiveProviderObject {
  subscribe: (options: LiveSubscribeOptions) => LiveSubscriptionHandle;
  unsubscribe: (subscription: any) => void;
  publish: (event: LiveEvent) => void;
  /** The client behind the provider (made by the options shorthand). */
  client: LiveClient;
}

export declare function createLiveClient(options: LiveClientOptions): LiveClient;
export declare function liveProvider(clientOrOptions: LiveClient | LiveClientOptions): LiveProviderObject;
export declare function isResyncEvent(event: unknown): event is ResyncEvent;
export declare const VERSION: string;
