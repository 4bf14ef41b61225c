// The JavaScript half of the contract with live.wasm; jsbridge/contract.go
// is the Go half and documents the whole. The fixtures under
// jsbridge/testdata/contract/ are read by the tests of both halves.
// This file is self-contained: Go's tests under Node import it directly.

/** Between frames, and after each outbox section. */
const SEP_FRAME = "\x1e";
/** Between an outbox section's client handle and its batch. */
const SEP_SECTION = "\x1d";
/** What an export returns when it was called from inside another one. */
const EXPORT_BUSY = 0xffffffff;

const utf8Encoder = new TextEncoder();

// A function that runs fn in a task of its own: a MessageChannel posts one
// without setTimeout's clamping of nested timers.
function taskPoster(fn) {
  if (typeof MessageChannel !== "function") return () => setTimeout(fn, 0);
  const channel = new MessageChannel();
  channel.port1.onmessage = fn;
  // In Node an active port keeps the process alive.
  channel.port1.unref?.();
  channel.port2.unref?.();
  return () => channel.port2.postMessage(null);
}
const utf8Decoder = new TextDecoder();

/**
 * A command of a batch: a subscribe. `origin`, a positive integer, is the
 * tab of a shared worker that asked (it is spared the echoes of its own
 * publishes only); without it the client itself asked.
 */
export function subscribeCommand(id, channel, types, ids, coalesceMs, ageMs, origin) {
  const idList = ids === null ? "null" : JSON.stringify(ids);
  return `["s",${id},${JSON.stringify(channel)},${JSON.stringify(types)},${idList},${coalesceMs},${ageMs}${originOf(origin)}]`;
}

/** A command of a batch: an unsubscribe. */
export function unsubscribeCommand(id) {
  return `["u",${id}]`;
}

/** A command of a batch: a publish; payload and meta are JSON texts of objects. */
export function publishCommand(channel, type, payloadJSON, metaJSON, origin) {
  return `["p",${JSON.stringify(channel)},${JSON.stringify(type)},${payloadJSON},${metaJSON ?? "null"}${originOf(origin)}]`;
}

const originOf = (origin) => (origin === undefined ? "" : `,${origin}`);

/** A command of a batch: reconnect at once (a browser signal). */
export const RECONNECT_COMMAND = '["r"]';

/** The batch liveCommands reads. */
export function joinCommands(commands) {
  return `[${commands.join(",")}]`;
}

/**
 * Parses an event batch, `[[1,2],{event},[3],{event}]`, into `[ids, event]`
 * pairs with `date` already a Date. Malformed pairs are skipped.
 * @param {string} batch
 * @returns {Array<[number[], any]>}
 */
export function decodeBatch(batch) {
  const items = JSON.parse(batch);
  if (!Array.isArray(items)) throw new TypeError("event batch is not an array");
  const pairs = [];
  for (let i = 0; i + 1 < items.length; i += 2) {
    const ids = items[i];
    const event = items[i + 1];
    if (!Array.isArray(ids) || event === null || typeof event !== "object") continue;
    event.date = toDate(event.date);
    pairs.push([ids, event]);
  }
  return pairs;
}

/** Go sends dates as epoch milliseconds; callbacks get a real Date. */
export function toDate(value) {
  if (value instanceof Date) return value;
  if (typeof value === "number" || typeof value === "string") {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  return new Date();
}

/**
 * Splits an outbox into its sections.
 * @param {string} text
 * @returns {Array<[number, string]>} client handle and event batch
 */
export function splitOutbox(text) {
  const sections = [];
  for (const section of text.split(SEP_FRAME)) {
    const at = section.indexOf(SEP_SECTION);
    if (at > 0) sections.push([Number(section.slice(0, at)), section.slice(at + 1)]);
  }
  return sections;
}

/**
 * Binds the exports of a running live.wasm instance: each call writes its
 * text into Go's inbox, enters Go once, and hands the event batches Go
 * delivered meanwhile to the client they belong to.
 * @param {WebAssembly.Exports} exports
 * @param {() => void} idle resumes Go with no event, so that it runs what an
 *   export left runnable and arms its timers
 */
export function bindExports(exports, idle) {
  /** @type {Map<number, (batch: string) => void>} */
  const receivers = new Map();
  let depth = 0;
  let idleQueued = false;
  /** Hook calls Go made during an export, run once it returned. */
  let held = [];

  // idle runs after the app's callbacks and the microtasks they queue.
  const idleTask = taskPoster(() => {
    idleQueued = false;
    idle();
  });

  const call = (fn, id, text) => {
    if (depth > 0) {
      // From a hook Go called during an export: Go takes it afterwards.
      queueMicrotask(() => call(fn, id, text));
      return;
    }
    depth++;
    let n;
    try {
      n = fn(id, writeInbox(text));
    } finally {
      depth--;
    }
    // Before the events, in Go's order: a subscription's state comes
    // before the events replayed on it.
    if (held.length > 0) {
      const calls = held;
      held = [];
      for (const run of calls) run();
    }
    if (!idleQueued) {
      idleQueued = true;
      idleTask();
    }
    if (n === EXPORT_BUSY || n === -1) {
      queueMicrotask(() => call(fn, id, text));
      return;
    }
    if (n > 0) deliver(utf8Decoder.decode(new Uint8Array(exports.mem.buffer, exports.liveOutbox() >>> 0, n)));
  };

  // Writes text into Go's inbox and returns its UTF-8 length. The inbox is
  // asked for one byte per UTF-16 unit (exact for ASCII) and grown, keeping
  // what was written, only when the text needs more.
  const writeInbox = (text) => {
    let room = text.length;
    let at = exports.liveInbox(room) >>> 0;
    let { read, written } = utf8Encoder.encodeInto(text, new Uint8Array(exports.mem.buffer, at, room));
    while (read < text.length) {
      room = written + (text.length - read) * 3;
      at = exports.liveInbox(room) >>> 0;
      const more = utf8Encoder.encodeInto(text.slice(read), new Uint8Array(exports.mem.buffer, at + written, room - written));
      read += more.read;
      written += more.written;
    }
    return written;
  };

  const deliver = (outbox) => {
    for (const [handle, batch] of splitOutbox(outbox)) receivers.get(handle)?.(batch);
  };

  return {
    /**
     * Wraps a hook that may run code entering Go (an app's listener): Go
     * must not be entered while an export runs, so a call made during one
     * is held until the export returns. The wrapped hook returns nothing.
     */
    hook(fn) {
      return (...args) => {
        if (depth > 0) held.push(() => fn(...args));
        else fn(...args);
      };
    },
    /** Routes the outbox sections of client `handle` to `onEvents`. */
    register(handle, onEvents) {
      receivers.set(handle, onEvents);
      return () => receivers.delete(handle);
    },
    commands(handle, text) {
      call(exports.liveCommands, handle, text);
    },
    frames(socket, text) {
      call(exports.liveFrames, socket, text);
    },
    /** Resumes Go with no event now (the shim does it in the task after its exports). */
    idle,
    /** The UTF-8 text Go holds at `address` (an outbound frame). */
    text(address, length) {
      return utf8Decoder.decode(new Uint8Array(exports.mem.buffer, address >>> 0, length));
    },
  };
}

export { SEP_FRAME };
