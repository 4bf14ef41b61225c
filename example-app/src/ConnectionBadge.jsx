import { useSyncExternalStore } from "react";
import { client } from "./live.js";

const LABELS = {
  idle: "idle",
  connecting: "connecting…",
  open: "live",
  reconnecting: "reconnecting…",
  closed: "offline",
};

function subscribe(onChange) {
  const off = client.onStatusChange(() => onChange());
  return typeof off === "function" ? off : () => {};
}

/** Shows the connection state of the page's live client. */
export function ConnectionBadge() {
  const status = useSyncExternalStore(subscribe, () => client.status);
  return (
    <span className={`badge badge-${status}`} data-testid="connection-badge" data-status={status} title={status}>
      {LABELS[status] ?? status}
    </span>
  );
}
