import { useLiveEvents } from "./eventLog.js";
import { config } from "./config.js";

/** The events Refine passed to the page's onLiveEvent, newest first. */
export function LiveEventLog() {
  const events = useLiveEvents();
  return (
    <section className="panel" data-testid="live-event-log">
      <h2>Live events</h2>
      <p className="hint">
        {config.liveMode === "manual"
          ? "Manual mode: nothing refetches by itself; events only land here."
          : config.liveMode === "off"
            ? "Live mode is off: resource hooks do not subscribe."
            : "Auto mode: each event refetches the resource's queries."}
      </p>
      <ol className="log">
        {events.map((e) => (
          <li key={e.key} data-testid="live-event" data-channel={e.channel} data-type={e.type} data-ids={e.ids.join(",")}>
            <code>{e.type}</code> {e.channel}
            {e.ids.length > 0 ? ` #${e.ids.join(", #")}` : ""}
          </li>
        ))}
      </ol>
    </section>
  );
}
