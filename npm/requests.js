// Validation and mapping of what Refine passes to subscribe and publish.
// Each parser returns either a request or an Error; none of them throws.
import { ErrorCodes, liveError } from "./errors.js";
import { describe, invalid } from "./options.js";

const ID_FILTERED = ["useOne", "useMany"];

/**
 * @param {any} options the argument Refine passed to subscribe
 * @param {boolean} filterIds
 * @returns {{ kind: "error", error: Error, channel?: string }
 *   | { kind: "inert", channel: string }
 *   | { kind: "subscribe", channel: string, types: string[], ids: string[] | null, callback: Function }}
 */
export function parseSubscribe(options, filterIds) {
  if (options === null || typeof options !== "object") {
    return { kind: "error", error: invalid(`subscribe expects an options object (got ${describe(options)})`) };
  }
  const { channel, types, params, callback } = options;
  if (typeof channel !== "string" || channel === "") {
    return { kind: "error", error: invalid(`subscribe: channel must be a non-empty string (got ${describe(channel)})`) };
  }
  if (typeof callback !== "function") {
    return { kind: "error", channel, error: invalid(`subscribe to ${channel}: callback must be a function (got ${describe(callback)})`) };
  }
  let typeList = ["*"];
  if (types !== undefined && types !== null) {
    if (!Array.isArray(types) || !types.every((t) => typeof t === "string" && t !== "")) {
      return { kind: "error", channel, error: invalid(`subscribe to ${channel}: types must be an array of strings (got ${describe(types)})`) };
    }
    typeList = [...types];
  }
  const safeParams = params !== null && typeof params === "object" ? params : {};
  // Refine v5 ignores resources[].meta.liveMode; params.meta carries it.
  if (safeParams.meta?.liveMode === "off") return { kind: "inert", channel };
  const ids = filterIds ? idsOf(safeParams) : null;
  return { kind: "subscribe", channel, types: typeList, ids, callback };
}

// Ids known at subscribe time, as strings (useUpdateMany publishes string
// ids). Refine never updates them, so Go applies them leniently.
function idsOf(params) {
  if (!ID_FILTERED.includes(params.subscriptionType)) return null;
  const ids = new Set();
  if (Array.isArray(params.ids)) {
    for (const id of params.ids) if (isId(id)) ids.add(String(id));
  }
  // useOne sends `ids: []` for id 0, so the single id counts too.
  if (isId(params.id)) ids.add(String(params.id));
  return ids.size === 0 ? null : [...ids];
}

const isId = (v) => typeof v === "string" || (typeof v === "number" && Number.isFinite(v));

/**
 * @param {any} event the LiveEvent Refine passed to publish
 * @param {number} maxBytes
 * @param {(err: Error) => void} report for problems that do not drop the event
 * @returns {{ kind: "error", error: Error }
 *   | { kind: "publish", channel: string, type: string, payloadJSON: string, metaJSON: string | null, bytes: number }}
 */
export function parsePublish(event, maxBytes, report) {
  if (event === null || typeof event !== "object") {
    return { kind: "error", error: invalid(`publish expects a LiveEvent object (got ${describe(event)})`) };
  }
  const { channel, type, payload, meta } = event;
  if (typeof channel !== "string" || channel === "") {
    return { kind: "error", error: invalid(`publish: channel must be a non-empty string (got ${describe(channel)})`) };
  }
  if (typeof type !== "string" || type === "") {
    return { kind: "error", error: invalid(`publish to ${channel}: type must be a non-empty string (got ${describe(type)})`) };
  }
  const body = payload === undefined || payload === null ? {} : payload;
  if (typeof body !== "object" || Array.isArray(body)) {
    return { kind: "error", error: invalid(`publish to ${channel}: payload must be an object (got ${describe(payload)})`) };
  }
  const payloadJSON = stringify(body);
  if (payloadJSON instanceof Error) {
    return { kind: "error", error: notSerializable(`publish to ${channel}: payload`, payloadJSON) };
  }
  let metaJSON = null;
  if (meta !== undefined && meta !== null) {
    const encoded = stringify(meta);
    // The payload is what subscribers need; an unencodable meta is left out
    // rather than losing the event.
    if (encoded instanceof Error) report(notSerializable(`publish to ${channel}: meta (sent without it)`, encoded));
    else metaJSON = encoded;
  }
  const bytes = utf8Length(payloadJSON) + (metaJSON === null ? 0 : utf8Length(metaJSON));
  if (bytes > maxBytes) {
    return {
      kind: "error",
      error: liveError(ErrorCodes.PAYLOAD_TOO_LARGE, `publish to ${channel}: ${bytes} bytes exceeds publishQueue.maxBytes (${maxBytes})`),
    };
  }
  return { kind: "publish", channel, type, payloadJSON, metaJSON, bytes };
}

function stringify(value) {
  try {
    const text = JSON.stringify(value);
    return typeof text === "string" ? text : new TypeError("value has no JSON form");
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function notSerializable(what, cause) {
  return liveError(ErrorCodes.NOT_SERIALIZABLE, `${what} is not JSON-serializable: ${cause.message}`, cause);
}

/** UTF-8 byte length without allocating an encoded copy. */
export function utf8Length(text) {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
