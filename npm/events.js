// What the app can ask of a LiveEvent it received.

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
