// A TCP proxy on loopback, for tests that drop connections without
// restarting the server behind it. Used by scripts/live-harness.mjs and the
// example app's end-to-end suite.
import { once } from "node:events";
import { connect, createServer } from "node:net";

/**
 * Starts a proxy in front of 127.0.0.1:targetPort, listening on port (0:
 * any free one). drop() ends every open link, with a reset when asked (as a
 * network drop looks to a browser); refuse(true) closes new connections at
 * once until refuse(false).
 */
export async function startTcpProxy(targetPort, port = 0) {
  const links = new Set();
  let refusing = false;
  const server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, "127.0.0.1");
    const link = { client, upstream };
    links.add(link);
    const end = () => {
      links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  return {
    port: server.address().port,
    drop({ reset = false } = {}) {
      for (const { client, upstream } of links) {
        if (reset && client.resetAndDestroy) client.resetAndDestroy();
        else client.destroy();
        upstream.destroy();
      }
      links.clear();
    },
    refuse(on) {
      refusing = on;
    },
    async close() {
      this.drop();
      server.close();
      await once(server, "close");
    },
  };
}
