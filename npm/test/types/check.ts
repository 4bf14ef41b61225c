// Compiled by `npm run typecheck` and by the packaging test: the package's
// types must satisfy @refinedev/core 5's LiveProvider.
import { createLiveClient, isResyncEvent, liveProvider, ErrorCodes } from "refine-live-wasm";
import type { LiveEvent, LiveProvider } from "@refinedev/core";

const client = createLiveClient({ url: "ws://x", reconnect: { minDelay: 100 }, onError: (e) => console.log(e.code) });
const p: LiveProvider = liveProvider(client);
const shorthand: LiveProvider = liveProvider({ url: ["ws://x", "ws://y"], protocol: "basic" });

const handle = p.subscribe({
  channel: "resources/posts",
  types: ["*"],
  params: { subscriptionType: "useOne", id: 1, resource: "posts" },
  callback: (event: LiveEvent) => {
    if (isResyncEvent(event)) console.log(event.payload.reason);
    const when: Date = event.date;
    console.log(when);
  },
});
p.unsubscribe(handle);
p.publish?.({ channel: "resources/posts", type: "created", payload: { ids: [1] }, date: new Date() });
shorthand.publish?.({ channel: "c", type: "t", payload: {}, date: new Date(), meta: { dataProviderName: "default" } });

const code: "ERR_CLOSED" = ErrorCodes.CLOSED;
const refused: "ERR_SUBSCRIBE_REFUSED" = ErrorCodes.SUBSCRIBE_REFUSED;
const off: () => void = client.onStatusChange((status, previous) => console.log(status, previous));
const offStates: () => void = client.onSubscriptionState((sub, previous) => {
  const state: "queued" | "subscribing" | "subscribed" | "refused" | "unsubscribed" = sub.state;
  console.log(sub.id, sub.channel, state, previous);
});
const channels: string[] = client.subscriptions().map((s) => s.channel);
createLiveClient({
  url: "ws://x",
  onError: (e) => {
    const where: string | undefined = e.channel;
    const why: string | undefined = e.serverCode;
    const close: number | undefined = e.closeCode;
    console.log(where, why, close);
  },
});
async function lifecycle(): Promise<void> {
  await client.ready;
  await client.close();
}
export { code, refused, off, offStates, channels, lifecycle };
