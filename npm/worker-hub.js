// The worker's side of worker.js: one Go runtime serving the tabs that
// talk to it, each over a port (a dedicated worker has one, its own scope;
// a shared worker one per tab). Tabs whose config is the same share one Go
// client, and so one WebSocket and one server subscription per channel.
//
// A tab's subscription ids are its own: a shared client gives each a
// client-wide id and routes events and states back under the tab's id. Its
// commands carry the tab's origin, so that the echo of a tab's publish is
// held back from that tab only. A dedicated worker has one tab and passes
// ids and batches through untouched.
import { decodeBatch, joinCommands, unsubscribeCommand } from "./contract.js";
import { randomId } from "./loader.js";
import { openSocket } from "./socket.js";
import { eventsPerTab, forgetTab, inClientIds, statesPerTab } from "./worker-ids.js";

/** The least time between two stats posted to a tab after deliveries. */
export const STATS_INTERVAL_MS = 250;
/** How long a shared client with no tab left stays, so that a reload finds its socket open. */
export const CLIENT_LINGER_MS = 5000;
/** Without Web Locks: a tab not heard from for this long is gone (hidden tabs ping once a minute at worst). */
export const TAB_TIMEOUT_MS = 150000;

/**
 * @param {object} parts
 * @param {(wasmURL?: string) => Promise<any>} parts.load loader.js's loadRuntime
 * @param {typeof WebSocket} [parts.WebSocket]
 * @param {boolean} parts.shared whether tabs share clients (a shared worker)
 * @param {{ request(name: string, fn: () => any): Promise<any> }} [parts.locks] navigator.locks
 */
export function createHub({ load, WebSocket = globalThis.WebSocket, shared, locks }) {
  const instance = randomId();
  /** @type {Map<string, ReturnType<typeof newClient>>} */
  const clients = new Map();
  const tabs = new Set();
  let runtime = null;
  let loading = null;
  let nextOrigin = 1;
  let nextClientKey = 1;
  let sweepTimer = null;

  const loadRuntime = (wasmURL) => {
    if (runtime !== null) return Promise.resolve(runtime);
    loading ??= load(wasmURL).then(
      (loaded) => {
        runtime = loaded;
        runtime.onExit(() => {
          for (const tab of tabs) {
            flush(tab);
            tab.port.postMessage({ t: "exited" });
          }
        });
        return loaded;
      },
      (err) => {
        loading = null;
        throw err;
      },
    );
    return loading;
  };

  // Everything of one task for a tab goes in one message, in order.
  const flush = (tab) => {
    const items = tab.items;
    tab.items = [];
    if (items.length > 0) tab.port.postMessage({ t: "batch", items });
  };
  const queue = (tab, item) => {
    if (tab.items.length === 0) queueMicrotask(() => flush(tab));
    tab.items.push(item);
  };

  const readStats = (client) => {
    try {
      const go = JSON.parse(client.goClient.stats());
      // The worker's wasm memory, which no page can see.
      go.workerMemoryBytes = runtime.memoryBytes?.() ?? 0;
      // What the worker itself holds, for leak checks, and when it was read.
      go.workerTabs = tabs.size;
      go.workerSubscriptions = client.subs.size;
      go.workerStatsAt = Date.now();
      return { go, funcCount: runtime.api.funcCount() };
    } catch (err) {
      for (const tab of client.tabs) queue(tab, ["error", "ERR_INTERNAL", `stats failed: ${err?.message ?? err}`]);
      return null;
    }
  };
  const postStats = (tab) => {
    clearTimeout(tab.statsTimer);
    tab.statsTimer = null;
    if (tab.client === null) return;
    tab.lastStatsAt = Date.now();
    const stats = readStats(tab.client);
    if (stats !== null) queue(tab, ["stats", stats]);
  };
  // After a delivery, at most every STATS_INTERVAL_MS, and once more after
  // the last delivery of a burst.
  const statsAfterDelivery = (tab) => {
    if (tab.statsTimer !== null) return;
    const wait = tab.lastStatsAt + STATS_INTERVAL_MS - Date.now();
    if (wait > 0) tab.statsTimer = setTimeout(() => postStats(tab), wait);
    else {
      tab.statsTimer = 0;
      queueMicrotask(() => postStats(tab));
    }
  };

  function newClient(key, config) {
    const client = {
      key,
      handle: 0,
      goClient: null,
      tabs: new Set(),
      /** client-wide id → the tab's subscription */
      subs: new Map(),
      nextId: 1,
      status: null,
      tokens: new Map(),
      nextToken: 1,
      closeTimer: null,
    };
    const everyTab = (item) => {
      for (const tab of client.tabs) queue(tab, item);
    };
    const hooks = {
      onEvents: (text) => deliverEvents(client, text),
      onStatus(from, to, code, message) {
        client.status = [from, to, code, message];
        everyTab(["status", from, to, code, message]);
      },
      onError(code, message, channel, serverCode, closeCode) {
        const item = ["error", code, message, channel, serverCode, closeCode];
        const concerned = channel ? [...client.tabs].filter((tab) => tab.channels.has(channel)) : [];
        if (concerned.length === 0) everyTab(item);
        else for (const tab of concerned) queue(tab, item);
      },
      onSubStates: (text) => deliverStates(client, text),
      onLog: (level, text) => everyTab(["log", level, text]),
      getToken() {
        const id = client.nextToken++;
        return new Promise((resolve, reject) => {
          client.tokens.set(id, { resolve, reject, tab: null });
          askToken(client, id);
        });
      },
      openSocket: (url, sink) => openSocket(url, sink, runtime.go, WebSocket),
    };
    let created;
    try {
      created = runtime.api.newClient(config, hooks);
    } catch (err) {
      created = err instanceof Error ? err : new Error(String(err));
    }
    if (created === null || typeof created !== "object" || created instanceof Error) {
      const refused = created instanceof Error ? created : new Error("live.wasm did not create a client");
      return { refused: { code: refused.code ?? "ERR_INTERNAL", message: refused.message } };
    }
    client.goClient = created;
    client.handle = created.handle;
    client.unregister = runtime.go.register(created.handle, hooks.onEvents);
    clients.set(key, client);
    return client;
  }

  // A token request goes to a tab of the client that is still there; one
  // whose tab leaves before answering is asked of another.
  const askToken = (client, id) => {
    const pending = client.tokens.get(id);
    const [tab] = client.tabs;
    if (tab === undefined) {
      client.tokens.delete(id);
      pending.reject(new Error("no tab is left to run getToken"));
      return;
    }
    pending.tab = tab;
    queue(tab, ["token", id]);
  };

  const deliverEvents = (client, text) => {
    let pairs;
    try {
      pairs = decodeBatch(text);
    } catch (err) {
      for (const tab of client.tabs) queue(tab, ["error", "ERR_INTERNAL", `malformed event batch: ${err.message}`]);
      return;
    }
    if (!shared) {
      for (const tab of client.tabs) {
        queue(tab, ["events", pairs]);
        statsAfterDelivery(tab);
      }
      return;
    }
    const perTab = eventsPerTab(client, pairs);
    for (const [tab, tabPairs] of perTab) {
      queue(tab, ["events", tabPairs]);
      statsAfterDelivery(tab);
    }
  };

  const deliverStates = (client, text) => {
    if (!shared) {
      for (const tab of client.tabs) queue(tab, ["substates", text]);
      return;
    }
    let items;
    try {
      items = JSON.parse(text);
    } catch (err) {
      for (const tab of client.tabs) queue(tab, ["error", "ERR_INTERNAL", `malformed subscription states: ${err.message}`]);
      return;
    }
    const perTab = statesPerTab(client, items);
    for (const [tab, list] of perTab) queue(tab, ["substates", JSON.stringify(list)]);
  };

  const commands = (tab, text) => {
    const client = tab.client;
    if (client === null) return;
    if (!shared) {
      runtime.go.commands(client.handle, text);
      return;
    }
    let out;
    try {
      out = inClientIds(tab, client, text);
    } catch (err) {
      queue(tab, ["error", "ERR_INTERNAL", `malformed command batch: ${err?.message ?? err}`]);
      return;
    }
    if (out.length > 0) runtime.go.commands(client.handle, joinCommands(out));
  };

  const start = async (tab, { wasmURL, config, lock }) => {
    try {
      await loadRuntime(wasmURL);
    } catch (err) {
      // The page tries again over a new connection, if at all.
      tab.state = "gone";
      tabs.delete(tab);
      tab.port.postMessage({ t: "failed", code: err?.code ?? "ERR_WASM_LOAD", message: String(err?.message ?? err) });
      return;
    }
    if (tab.state !== "loading") return;
    const key = shared ? JSON.stringify([wasmURL ?? null, config]) : String(nextClientKey++);
    const client = clients.get(key) ?? newClient(key, config);
    if (client.refused !== undefined) {
      tab.state = "gone";
      tabs.delete(tab);
      tab.port.postMessage({ t: "ready", refused: client.refused });
      return;
    }
    clearTimeout(client.closeTimer);
    client.closeTimer = null;
    tab.state = "joined";
    tab.client = client;
    client.tabs.add(tab);
    tab.lastStatsAt = Date.now();
    tab.port.postMessage({ t: "ready", version: runtime.api.version, handle: client.handle, stats: readStats(client), instance });
    if (client.status !== null) queue(tab, ["status", ...client.status]);
    if (shared && typeof lock === "string") {
      // The tab holds this lock for its life: it is granted here once the
      // tab is gone, closed or crashed alike.
      locks?.request(lock, () => leave(tab)).catch(() => {});
      tab.locked = locks !== undefined;
    }
    watchSilentTabs();
  };

  // The tab's subscriptions end (the engine's linger keeps their channels
  // a while); a shared client's last tab leaving closes it after a linger.
  const leave = (tab) => {
    if (tab.state === "gone") return Promise.resolve();
    const client = tab.client;
    tab.state = "gone";
    tab.client = null;
    tabs.delete(tab);
    clearTimeout(tab.statsTimer);
    if (client === null) return Promise.resolve();
    client.tabs.delete(tab);
    const ids = forgetTab(tab, client);
    if (ids.length > 0 && client.goClient !== null) runtime.go.commands(client.handle, joinCommands(ids.map(unsubscribeCommand)));
    for (const [id, pending] of client.tokens) if (pending.tab === tab) askToken(client, id);
    if (client.tabs.size > 0) return Promise.resolve();
    if (!shared) return closeClient(client);
    client.closeTimer = setTimeout(() => closeClient(client), CLIENT_LINGER_MS);
    client.closeTimer.unref?.(); // (Node, in tests)
    return Promise.resolve();
  };

  const closeClient = async (client) => {
    if (clients.get(client.key) !== client) return;
    clients.delete(client.key);
    client.unregister();
    for (const { reject } of client.tokens.values()) reject(new Error("the client was closed"));
    client.tokens.clear();
    const closing = client.goClient;
    client.goClient = null;
    try {
      await closing?.close();
    } catch {
      // nothing is left to tell: no tab uses this client
    }
  };

  // Without Web Locks a tab that vanished is noticed by its silence.
  const watchSilentTabs = () => {
    if (!shared || sweepTimer !== null || [...tabs].every((tab) => tab.locked)) return;
    sweepTimer = setInterval(() => {
      const now = Date.now();
      for (const tab of tabs) if (!tab.locked && tab.state === "joined" && now - tab.lastSeen > TAB_TIMEOUT_MS) leave(tab);
      if (tabs.size === 0) {
        clearInterval(sweepTimer);
        sweepTimer = null;
      }
    }, TAB_TIMEOUT_MS / 5);
    sweepTimer.unref?.();
  };

  const onMessage = (tab, data) => {
    tab.lastSeen = Date.now();
    switch (data?.t) {
      case "load":
        if (tab.state !== "new") break;
        tab.state = "loading";
        start(tab, data);
        break;
      case "commands":
        commands(tab, data.text);
        break;
      case "token": {
        const pending = tab.client?.tokens.get(data.id);
        if (pending === undefined) break;
        tab.client.tokens.delete(data.id);
        if (data.error === undefined) pending.resolve(String(data.token ?? ""));
        else pending.reject(new Error(String(data.error)));
        break;
      }
      case "stats":
        postStats(tab);
        break;
      case "ping":
        tab.port.postMessage({ t: "pong", instance, known: tab.state === "joined" });
        break;
      case "close": {
        const ending = tab.state === "gone" ? Promise.resolve() : leave(tab);
        ending.then(() => {
          flush(tab);
          tab.port.postMessage({ t: "closed" });
        });
        break;
      }
    }
  };

  return {
    instance,
    /** Serves the tab behind `port` (a MessagePort, or a dedicated worker's scope). */
    attach(port) {
      /** @type {"new" | "loading" | "joined" | "gone"} */
      const tab = {
        port,
        state: "new",
        origin: shared ? nextOrigin++ : 0,
        client: null,
        ids: new Map(),
        channels: new Map(),
        items: [],
        lastStatsAt: -Infinity,
        statsTimer: null,
        lastSeen: Date.now(),
        locked: false,
      };
      tabs.add(tab);
      port.addEventListener("message", ({ data }) => onMessage(tab, data));
      port.start?.();
    },
  };
}
