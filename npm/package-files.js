// Where the package's own files (live.wasm, worker.js) are, seen from a
// module of the package. Bundlers follow `new URL("./file", import.meta.url)`
// written at the call site, so that is what the callers write; this module
// only corrects the one place where that form points elsewhere: Vite 7's
// dev server pre-bundles a dependency into node_modules/.vite/deps/, where
// the package's files are not, and answers for them with the app's
// index.html. The dev server serves the installed package as it is, so the
// file is taken from there instead.

/** The package's name, as installed under node_modules. */
export const PACKAGE_NAME = "refine-live-wasm";

const PRE_BUNDLED = "/node_modules/.vite/deps/";

/**
 * The URL of `file` in the installed package, for a module that was
 * pre-bundled (see preBundled); callers otherwise write
 * `new URL("./file", import.meta.url)` themselves.
 * @param {string} file its name in the package
 * @param {string} [moduleURL] this module's URL (for tests)
 */
export function installedFile(file, moduleURL = import.meta.url) {
  const at = moduleURL.indexOf(PRE_BUNDLED);
  return new URL(`node_modules/${PACKAGE_NAME}/${file}`, at < 0 ? moduleURL : moduleURL.slice(0, at + 1));
}

/** True when a dev server pre-bundled this module away from the package's files. */
export function preBundled(moduleURL = import.meta.url) {
  return moduleURL.includes(PRE_BUNDLED);
}

/**
 * The one-line fix for a bundler whose dev server answered a package file
 * with an HTML page, for error messages.
 */
export const HTML_ANSWER_FIX =
  `the server answered with an HTML page (a dev server's fallback to index.html): the package's files are not served where it looks for them. ` +
  `With Vite, add optimizeDeps: { exclude: ["${PACKAGE_NAME}"] } to vite.config; elsewhere serve node_modules/${PACKAGE_NAME}/live.wasm ` +
  `and worker.js and pass their URLs as wasmURL and workerURL`;
