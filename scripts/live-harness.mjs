// Runs a command against a live reference server on loopback.
//
//   node scripts/live-harness.mjs <liveserver> [--basic <basicserver>] -- <command> [args...]
//
// The command gets REFINE_LIVE_TEST_WS (the WebSocket URL) and
// REFINE_LIVE_TEST_RESTART_URL: a POST there stops the server and starts a
// new process on the same port (its in-memory history is lost, as in a real
// restart) and answers once the new one is healthy. With --basic it also
// gets REFINE_LIVE_TEST_BASIC_WS, a server that speaks only the plain
// protocol of Refine's documentation. REFINE_LIVE_TEST_PROXY_WS reaches the
// same server through a proxy that POST REFINE_LIVE_TEST_CONTROL_URL/cut,
// /offline and /online drop and hold, for recovery tests in any engine.
import { spawn } from "node:child_process";
import { createServer } from "node:http";

import { childServer, freePort, waitHealthy } from "./child-server.mjs";
import { startTcpProxy } from "./tcp-proxy.mjs";

const sep = process.argv.indexOf("--");
const binary = process.argv[2];
if (!binary || sep < 0 || sep === process.argv.length - 1) {
  console.error("usage: node scripts/live-harness.mjs <liveserver> -- <command> [args...]");
  process.exit(2);
}
const command = process.argv.slice(sep + 1);
const basicAt = process.argv.indexOf("--basic");
const basicBinary = basicAt > 0 && basicAt < sep ? process.argv[basicAt + 1] : null;

const port = await freePort();
// --history-grace: the tests publish only while it runs, so a page that
// subscribes right after a start need not refetch.
const { start, stop } = childServer(binary, port, ["--any-origin", "--heartbeat", "5s", "--log-level", "warn", "--history-grace", "1h"]);

await start();

// A TCP proxy in front of the server, for tests that drop connections
// without restarting it: POST /cut ends every link through it, /offline
// ends them and refuses new ones until /online.
const proxy = await startTcpProxy(port, await freePort());
const proxyPort = proxy.port;

const routes = {
  "/restart": async () => {
    await stop();
    await start();
  },
  "/cut": async () => proxy.drop(),
  "/offline": async () => {
    proxy.refuse(true);
    proxy.drop();
  },
  "/online": async () => proxy.refuse(false),
};
const control = createServer(async (req, res) => {
  const route = req.method === "POST" ? routes[req.url] : undefined;
  if (route === undefined) {
    res.writeHead(404).end();
    return;
  }
  try {
    await route();
    res.writeHead(204).end();
  } catch (err) {
    res.writeHead(500).end(String(err));
  }
});
let basic = null;
const env = {};
if (basicBinary) {
  const basicPort = await freePort();
  basic = spawn(basicBinary, ["--addr", `127.0.0.1:${basicPort}`], { stdio: ["ignore", "inherit", "inherit"] });
  await waitHealthy(`http://127.0.0.1:${basicPort}`);
  env.REFINE_LIVE_TEST_BASIC_WS = `ws://127.0.0.1:${basicPort}/live`;
}

const controlPort = await freePort();
await new Promise((r) => control.listen(controlPort, "127.0.0.1", r));

const run = spawn(command[0], command.slice(1), {
  stdio: "inherit",
  env: {
    ...process.env,
    ...env,
    REFINE_LIVE_TEST_WS: `ws://127.0.0.1:${port}/live`,
    REFINE_LIVE_TEST_RESTART_URL: `http://127.0.0.1:${controlPort}/restart`,
    REFINE_LIVE_TEST_PROXY_WS: `ws://127.0.0.1:${proxyPort}/live`,
    REFINE_LIVE_TEST_CONTROL_URL: `http://127.0.0.1:${controlPort}`,
  },
});
const code = await new Promise((resolve) => run.once("exit", (c, sig) => resolve(c ?? (sig ? 1 : 0))));
control.close();
await proxy.close();
basic?.kill("SIGTERM");
await stop();
process.exit(code);
