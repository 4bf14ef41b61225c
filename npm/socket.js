// The browser transport Go drives: one page WebSocket per call. A frame that
// arrives while the socket is quiet goes to Go at once (latency); frames that
// arrive during a burst are batched so that Go is entered once per macrotask,
// not once per frame (docs/benchmarks.md has what each costs).
// It imports only contract.js: Go's tests under Node import both directly.

import { SEP_FRAME } from "./contract.js";


/**
 * Opens a WebSocket and reports to `sink`; its frames go to `go.frames`
 * (contract.js's liveFrames), joined by U+001E. After `close()` (or after
 * the sink's onClose) neither is called again.
 * @param {string} url
 * @param {{ id: number, onOpen(): void, onClose(code: number, reason: string): void }} sink
 * @param {{ frames(socket: number, joined: string): void, text(address: number, length: number): string }} go
 *   contract.js's bindExports
 * @param {typeof WebSocket} [WebSocketImpl]
 */
export function openSocket(url, sink, go, WebSocketImpl = globalThis.WebSocket) {
  /** @type {"connecting" | "open" | "closed"} */
  let state = "connecting";
  /** @type {string[]} */
  let queued = [];
  /**
   * "quiet": the next frame goes to Go at once; "burst": a frame went
   * through within this macrotask, so later ones wait for the flush.
   * @type {"quiet" | "burst"}
   */
  let inbound = "quiet";
  let binaryFrames = 0;
  let ws = null;

  const flush = () => {
    if (state === "closed" || queued.length === 0) return;
    const joined = queued.join(SEP_FRAME);
    queued = [];
    go.frames(sink.id, joined);
  };

  // Ends a burst once a macrotask passed without frames; until then, what
  // came in meanwhile goes to Go in one call.
  const endOfBurst = () => {
    if (state === "closed" || queued.length === 0) {
      inbound = "quiet";
      return;
    }
    flush();
    scheduleMacrotask(endOfBurst);
  };

  const finish = (code, reason) => {
    if (state === "closed") return;
    flush();
    state = "closed";
    detach();
    sink.onClose(code, reason);
  };

  const detach = () => {
    if (ws === null) return;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
  };

  try {
    ws = new WebSocketImpl(url);
  } catch {
    // An invalid URL throws synchronously; report it the way a refused
    // handshake looks, and never re-enter Go from inside its own call.
    scheduleMacrotask(() => finish(1006, ""));
    return socketHandle();
  }

  ws.onopen = () => {
    if (state !== "connecting") return;
    state = "open";
    sink.onOpen();
  };
  ws.onmessage = (ev) => {
    if (state === "closed") return;
    if (typeof ev.data !== "string") {
      binaryFrames++;
      return;
    }
    if (inbound === "quiet") {
      inbound = "burst";
      scheduleMacrotask(endOfBurst);
      go.frames(sink.id, ev.data);
      return;
    }
    queued.push(ev.data);
  };
  ws.onerror = () => {
    // Browsers follow an error with a close event; before open there may be
    // nothing else worth waiting for, so report the failed handshake now.
    if (state === "connecting") {
      const socket = ws;
      finish(1006, "");
      safeClose(socket, 1000, "");
    }
  };
  ws.onclose = (ev) => finish(typeof ev.code === "number" ? ev.code : 1006, typeof ev.reason === "string" ? ev.reason : "");

  return socketHandle();

  function socketHandle() {
    return {
      /**
       * Sends the UTF-8 text Go holds at `address` as one text frame: read
       * straight from Go's memory, so neither a copy nor a reference
       * crosses the boundary.
       */
      sendFrom(address, length) {
        if (state !== "open") return false;
        try {
          ws.send(go.text(address, length));
          return true;
        } catch {
          return false;
        }
      },
      /** Closes the socket; the sink hears nothing more. */
      close(code, reason) {
        if (state === "closed") return;
        state = "closed";
        queued = [];
        detach();
        if (ws !== null) safeClose(ws, code, reason);
      },
      /** Binary frames received and ignored (the protocol is text only). */
      get binaryFrames() {
        return binaryFrames;
      },
      /** Bytes queued by the browser but not yet sent. */
      get bufferedAmount() {
        return ws === null ? 0 : ws.bufferedAmount;
      },
    };
  }
}

// The browser only accepts 1000 and 3000-4999 from scripts, and a reason of
// at most 123 bytes; fall back to a plain close rather than throwing.
function safeClose(ws, code, reason) {
  try {
    ws.close(code, reason);
  } catch {
    try {
      ws.close();
    } catch {
      // already closing
    }
  }
}

// A MessageChannel posts a macrotask without setTimeout's 4 ms clamping of
// nested timers; setTimeout(0) is the fallback where it does not exist.
let macrotaskQueue = [];
let channel = null;

function runMacrotasks() {
  const tasks = macrotaskQueue;
  macrotaskQueue = [];
  for (const task of tasks) {
    try {
      task();
    } catch (err) {
      // One failing sink must not strand the other sockets' frames.
      setTimeout(() => {
        throw err;
      }, 0);
    }
  }
}

function scheduleMacrotask(task) {
  macrotaskQueue.push(task);
  if (macrotaskQueue.length > 1) return;
  if (channel === null && typeof MessageChannel === "function") {
    channel = new MessageChannel();
    channel.port1.onmessage = runMacrotasks;
    // In Node an active port keeps the process alive; sockets already do.
    channel.port1.unref?.();
    channel.port2.unref?.();
  }
  if (channel !== null) channel.port2.postMessage(null);
  else setTimeout(runMacrotasks, 0);
}
