// Every error this package reports carries one of these codes, so that an
// onError handler can branch on `err.code` instead of parsing messages.
// The codes Go reports are listed in jsbridge/testdata/error-codes.json;
// the tests check that each is here, in index.d.ts and in the README.

/** @type {Readonly<Record<string, string>>} */
export const ErrorCodes = Object.freeze({
  INVALID_ARGUMENT: "ERR_INVALID_ARGUMENT",
  NOT_SERIALIZABLE: "ERR_NOT_SERIALIZABLE",
  PAYLOAD_TOO_LARGE: "ERR_PAYLOAD_TOO_LARGE",
  QUEUE_FULL: "ERR_QUEUE_FULL",
  CLOSED: "ERR_CLOSED",
  CALLBACK: "ERR_CALLBACK",
  CONNECTION: "ERR_CONNECTION",
  CONNECTION_CLOSED: "ERR_CONNECTION_CLOSED",
  TOKEN: "ERR_TOKEN",
  SUBSCRIBE_REFUSED: "ERR_SUBSCRIBE_REFUSED",
  PUBLISH_REFUSED: "ERR_PUBLISH_REFUSED",
  RATE_LIMITED: "ERR_RATE_LIMITED",
  SERVER: "ERR_SERVER",
  WASM_LOAD: "ERR_WASM_LOAD",
  WASM_EXITED: "ERR_WASM_EXITED",
  VERSION_MISMATCH: "ERR_VERSION_MISMATCH",
  UNSUPPORTED_ENVIRONMENT: "ERR_UNSUPPORTED_ENVIRONMENT",
  INTERNAL: "ERR_INTERNAL",
});

/**
 * Builds an Error with a `code` property (and `cause` when given).
 * @param {string} code
 * @param {string} message
 * @param {unknown} [cause]
 * @returns {Error & { code: string }}
 */
export function liveError(code, message, cause) {
  const err = /** @type {Error & { code: string }} */ (
    cause === undefined ? new Error(message) : new Error(message, { cause })
  );
  err.name = "LiveError";
  err.code = code;
  return err;
}

/** Default error sink: a console warning, because nothing may throw into Refine. */
export function warnError(err) {
  console.warn(`[refine-live-wasm] ${err.code}: ${err.message}`);
}
