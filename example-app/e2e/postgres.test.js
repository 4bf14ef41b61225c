// The example backend on PostgreSQL, with no publish call: a row changed
// with plain SQL, outside the app, shows up in the open Refine list.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import net from "node:net";
import { join } from "node:path";
import { after, afterEach, before, test } from "node:test";
import { liveEvents, repoDir, serverPosts, useSuite, waitFor, waitForList } from "./harness.js";

const { backend, open } = useSuite({ before, after, afterEach });
const pgTemp = join(repoDir, "scripts", "pg-temp.sh");
let pg = null;
let psql = null;

async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

before(async () => {
  // Debian's PostgreSQL, installed by the script when missing and we are
  // root; a clear error otherwise.
  const [dir, url] = execFileSync("bash", [pgTemp, "start", String(await freePort())], { encoding: "utf8" }).trim().split("\n");
  pg = { dir, url };
  psql = join(execFileSync("bash", [join(repoDir, "scripts", "ensure-postgres.sh")], { encoding: "utf8" }).trim(), "psql");
});

after(() => {
  if (pg) execFileSync("bash", [pgTemp, "stop", pg.dir]);
});

/** Runs SQL the way an admin would, with a connection of its own. */
function sql(statement) {
  execFileSync(psql, [pg.url, "-v", "ON_ERROR_STOP=1", "-qc", statement]);
}

test("postgres: a plain SQL UPDATE, INSERT and DELETE reach the open list with no application code", async () => {
  const be = await backend({ args: ["--postgres", pg.url] });
  const b = await open(be.url, "/posts");
  await waitForList(b, await serverPosts(be.url), "the first load");

  sql(`UPDATE posts SET title = 'Edited with psql' WHERE id = 2`);
  let server = await serverPosts(be.url);
  assert.equal(server.find((p) => p.id === "2").title, "Edited with psql");
  await waitForList(b, server, "the row updated with SQL");

  sql(`INSERT INTO posts (title, content, status, "categoryId", "createdAt") VALUES ('Inserted with psql', '', 'draft', 1, '2025-02-01T00:00:00Z')`);
  sql(`DELETE FROM posts WHERE id = 3`);
  server = await serverPosts(be.url);
  await waitForList(b, server, "the inserted and deleted rows");

  await waitFor("three live events", async () => (await liveEvents(b)).length >= 3);
  const types = (await liveEvents(b)).map((e) => `${e.type} ${e.ids}`);
  assert.deepEqual(types, ["updated 2", "created 9", "deleted 3"], "the page's live events");
});
