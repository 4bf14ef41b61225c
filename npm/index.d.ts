// Type declarations for refine-live-wasm. Structurally compatible with
// @refinedev/core 5's LiveProvider and LiveEvent without depending on it.

/** Connection state of a client, one string at a time. */
export type LiveStatus = "idle" | "connecting" | "open" | "reconnecting" | "closed";

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
}

export type LiveErrorCode =
  | "ERR_INVALID_ARGUMENT"
  | "ERR_NOT_SERIALIZABLE"
  | "ERR_PAYLOAD_TOO_LARGE"
  | "ERR_QUEUE_FULL"
  | "ERR_CLOSED"
  | "ERR_CALLBACK"
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
   * connection (extended protocol). A rejection is reported and retried.
   * @default undefined (no authentication)
   */
  getToken?: () => Promise<string> | string;
  /** Delays between reconnection attempts: full jitter above a floor. */
  reconnect?: {
    /**
     * Floor of the delay before a reconnection attempt, in ms.
     * @default 500
     */
    minDelay?: number;
    /**
     * Cap of the random part of the delay, in ms.
     * @default 20000
     */
    maxDelay?: number;
  };
  /**
   * How long past the server's heartbeat interval a silent connection is
   * still trusted, in ms.
   * @default 10000
   */
  heartbeatGrace?: number;
  /**
   * Bounds of the queue of publishes made while disconnected. When full the
   * newest publish is dropped and reported with ERR_QUEUE_FULL; a single
   * event larger than maxBytes is refused with ERR_PAYLOAD_TOO_LARGE.
   */
  publishQueue?: {
    /** @default 100 */
    maxCount?: number;
    /** @default 1048576 */
    maxBytes?: number;
  };
  /**
   * Drop events whose payload.ids miss the ids a useOne/useMany
   * subscription was made with ("created" events always pass).
   * @default true
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
   * Where live.wasm is served from. The first client of a page decides:
   * there is one Go runtime per page.
   * @default new URL("./live.wasm", import.meta.url)
   */
  wasmURL?: string | URL;
  /**
   * Receives every problem: bad arguments, load failures, dropped publishes,
   * callbacks that threw. Nothing is ever thrown into Refine.
   * @default (err) => console.warn(...)
   */
  onError?: (error: LiveError) => void;
  /**
   * Log status changes and protocol traffic to the console.
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
  /** Calls `listener(status, previous)` on every change; returns a remover. */
  onStatusChange(listener: (status: LiveStatus, previous: LiveStatus) => void): () => void;
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
