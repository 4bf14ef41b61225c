// A tiny store for the live events Refine hands to a page's main hook
// through its onLiveEvent, so that the page can show them (in manual mode
// they are all the app gets).
import { useSyncExternalStore } from "react";

const LIMIT = 200;
let entries = [];
let nextKey = 1;
const listeners = new Set();

export function recordLiveEvent(event) {
  const entry = {
    key: nextKey++,
    channel: String(event?.channel ?? ""),
    type: String(event?.type ?? ""),
    ids: Array.isArray(event?.payload?.ids) ? event.payload.ids.map(String) : [],
    at: new Date(),
  };
  entries = [entry, ...entries].slice(0, LIMIT);
  for (const fn of listeners) fn();
}

function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function useLiveEvents() {
  return useSyncExternalStore(subscribe, () => entries);
}
