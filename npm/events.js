// Turning Go's event batches into Refine LiveEvents.

/**
 * True for the event a subscriber receives when missed events could not be
 * replayed (for example after a server restart): Refine should refetch.
 * Shape: `{ channel, type: "*", payload: { resync: true, reason }, date }`.
 * @param {unknown} event
 */
export function isResyncEvent(event) {
  return (
    event !== null &&
    typeof event === "object" &&
    event.type === "*" &&
    event.payload !== null &&
    typeof event.payload === "object" &&
    event.payload.resync === true
  );
}

/** Go sends dates as epoch milliseconds; callbacks get a real Date. */
export function toDate(value) {
  if (value instanceof Date) return value;
  if (typeof value === "number" || typeof value === "string") {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  return new Date();
}

/**
 * Parses a batch: a JSON array alternating subscriber-id arrays and events,
 * `[[1,2],{event},[3],{event}]`, and yields `[ids, event]` pairs with
 * `date` already converted. Malformed pairs are skipped.
 * @param {string} batch
 * @returns {Array<[number[], any]>}
 */
export function decodeBatch(batch) {
  const items = JSON.parse(batch);
  if (!Array.isArray(items)) throw new TypeError("event batch is not an array");
  const pairs = [];
  for (let i = 0; i + 1 < items.length; i += 2) {
    const ids = items[i];
    const event = items[i + 1];
    if (!Array.isArray(ids) || event === null || typeof event !== "object") continue;
    event.date = toDate(event.date);
    pairs.push([ids, event]);
  }
  return pairs;
}
