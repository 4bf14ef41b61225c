// The real live.wasm in headless Chromium against a server that speaks only
// the plain protocol of Refine's documentation (internal/cmd/basicserver,
// URL in REFINE_LIVE_TEST_BASIC_WS). Chromium fails a handshake whose
// offered subprotocol the server does not select; the client negotiates
// in-band instead, so protocol "auto" must reach such a server.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { failWithoutWasmInCI, needsWasm, useBrowser } from "./harness.js";

failWithoutWasmInCI(test);

const basicServerURL = process.env.REFINE_LIVE_TEST_BASIC_WS || "";
const needsBasic = basicServerURL ? false : "REFINE_LIVE_TEST_BASIC_WS is unset: no basic server to test against";
if (needsBasic && process.env.CI === "true") {
  test("a basic-protocol server is provided", () => {
    throw new Error(`${needsBasic} (CI=true: not skipping)`);
  });
}

describe("live.wasm against a basic-protocol server", () => {
  const skip = needsWasm || needsBasic;
  const browser = useBrowser({ before, after }, skip);

  test("protocol auto connects without a subprotocol, subscribes and receives", { skip }, async () => {
    const page = await browser.newPage();
    const result = await page.evaluate(
      async ({ url }) => {
        const protocolsOffered = [];
        class RecordingWebSocket extends WebSocket {
          constructor(u, protocols) {
            protocolsOffered.push(protocols === undefined ? null : protocols);
            super(u, protocols);
          }
        }
        const errors = [];
        const reconnect = { minDelay: 100, maxDelay: 400 };
        const client = live.createLiveClient({ url, reconnect, WebSocket: RecordingWebSocket, onError: (e) => errors.push(e.code) });
        const publisher = live.createLiveClient({ url, reconnect });
        const channel = helpers.uniqueChannel("resources/posts");
        const received = [];
        client.subscribe({ channel, types: ["*"], callback: (e) => received.push(e) });
        await helpers.until(() => client.status === "open", 10000, "open");
        await helpers.publishUntil(publisher, { channel, type: "updated", payload: { ids: [3] } }, () => received.length > 0);
        const event = received[0];
        await Promise.all([client.close(), publisher.close()]);
        return {
          protocolsOffered,
          errors,
          type: event.type,
          ids: event.payload.ids,
          isDate: event.date instanceof Date,
        };
      },
      { url: basicServerURL },
    );
    assert.deepEqual(result.protocolsOffered, [null], "the handshake offers no subprotocol");
    assert.deepEqual(result.errors, []);
    assert.deepEqual({ type: result.type, ids: result.ids, isDate: result.isDate }, { type: "updated", ids: [3], isDate: true });
    await page.close();
  });
});
