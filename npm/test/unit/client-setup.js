// The client over a fake runtime, closed after each test: shared by the
// client's unit tests.
import { afterEach } from "node:test";
import { createLiveClient, liveProvider } from "../../index.js";
import { errorSink, fakeRuntime } from "./fake-runtime.js";

export const URL_ = "ws://127.0.0.1:1/live";
let open = [];

export function setup(extra = {}) {
  const fake = fakeRuntime();
  const sink = errorSink();
  const client = createLiveClient({ url: URL_, loadRuntime: fake.loadRuntime, onError: sink.onError, ...extra });
  open.push(client);
  return { fake, sink, client, provider: liveProvider(client) };
}

/** Closes client after the test, as setup's clients are. */
export const closeAfterTest = (client) => open.push(client);

afterEach(async () => {
  await Promise.all(open.map((c) => c.close()));
  open = [];
});

export const sub = (channel, callback = () => {}, extra = {}) => ({ channel, types: ["*"], callback, ...extra });
