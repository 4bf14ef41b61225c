// A tiny static file server for the browser tests: serves the npm/ folder
// on 127.0.0.1 with correct MIME types. /octet/<file> serves the same file
// as application/octet-stream, to exercise the loader's MIME fallback.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".map": "application/json",
};

/**
 * @param {string} root folder to serve
 * @returns {Promise<{ origin: string, requests: string[], close(): Promise<void> }>}
 */
export async function startStaticServer(root) {
  const requests = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    requests.push(url.pathname);
    let path = decodeURIComponent(url.pathname);
    let type;
    if (path.startsWith("/octet/")) {
      path = path.slice("/octet".length);
      type = "application/octet-stream";
    }
    const file = normalize(join(root, path));
    if (!file.startsWith(root + sep) || file.includes(`${sep}node_modules${sep}`)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error("not a file");
      res.writeHead(200, {
        "content-type": type ?? MIME[extname(file)] ?? "application/octet-stream",
        "content-length": info.size,
        "cache-control": "no-store",
      });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
