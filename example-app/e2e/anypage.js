// The part of Playwright's page API the end-to-end tests use, built on the
// one call every engine's driver has (evaluate), so that the suite runs in
// Firefox and WebKit as written for Chromium. What Playwright sees from
// outside (requests, WebSocket frames, sockets, errors) comes from the
// page's own record (src/record.js), pulled with every call.

// Runs src(arg) in the page and hands back its result with the record and
// the page's URL. Functions cannot cross a WebDriver boundary; their source
// can, and every function a test evaluates closes over nothing.
const RUN = async ({ src, arg }) => {
  const result = await (0, eval)(`(${src})`)(arg);
  const rec = window.__e2eRecord;
  return {
    result,
    href: window.location.href,
    rec: rec && { requests: rec.requests, frames: rec.frames, sockets: rec.sockets, errors: rec.errors },
  };
};

// One element action, in the page: find the element a spec names (a CSS
// selector, or a link by its text), then read or act on it.
const ACT = ({ spec, action, value }) => {
  const find = () =>
    spec.text === undefined
      ? document.querySelector(spec.sel)
      : [...document.querySelectorAll(spec.sel)].find((e) => e.textContent.trim() === spec.text);
  const el = find();
  if (action === "exists") return el !== null && el !== undefined;
  if (!el) throw new Error(`no element for ${JSON.stringify(spec)}`);
  switch (action) {
    case "click":
      el.click();
      return null;
    case "fill": {
      // React tracks an input's value: set it through the prototype's
      // setter, then announce the change as typing would.
      const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
      Object.getOwnPropertyDescriptor(proto, "value").set.call(el, value);
      el.dispatchEvent(new Event("input", { bubbles: true }));
      return null;
    }
    case "inputValue":
      return el.value;
    case "textContent":
      return el.textContent;
    case "getAttribute":
      return el.getAttribute(value);
    case "evaluate":
      return (0, eval)(`(${value.src})`)(el, value.arg);
  }
  throw new Error(`unknown action ${action}`);
};

const DEFAULT_TIMEOUT = 20_000;

async function poll(what, cond, timeout = DEFAULT_TIMEOUT) {
  const deadline = Date.now() + timeout;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class AnyPage {
  /** @param {{ evaluate: Function, goto: Function, close: Function }} driverPage @param {object} app the record's owner */
  constructor(driverPage, app) {
    this.driver = driverPage;
    this.app = app;
    this.href = "";
  }

  async evaluate(fn, arg) {
    const out = await this.driver.evaluate(RUN, { src: fn.toString(), arg: arg === undefined ? null : arg });
    this.href = out.href;
    if (out.rec) {
      this.app.requests = out.rec.requests;
      this.app.sentFrames = out.rec.frames;
      this.app.sockets = out.rec.sockets;
      this.app.errors = out.rec.errors;
    }
    return out.result;
  }

  act(spec, action, value) {
    return this.evaluate(ACT, { spec, action, value });
  }

  getByTestId(id) {
    return new AnyLocator(this, { sel: `[data-testid="${id}"]` });
  }

  locator(sel) {
    return new AnyLocator(this, { sel });
  }

  getByRole(role, { name }) {
    if (role !== "link") throw new Error(`getByRole(${role}) is not supported`);
    return new AnyLocator(this, { sel: "a", text: name });
  }

  $$eval(sel, fn) {
    return this.evaluate(({ sel, src }) => (0, eval)(`(${src})`)([...document.querySelectorAll(sel)]), { sel, src: fn.toString() });
  }

  async waitForURL(re, { timeout } = {}) {
    await poll(`the URL to match ${re}`, async () => re.test(await this.evaluate(() => window.location.href)), timeout);
  }

  /** The page's URL, without the ?record=1 that only the test added. */
  url() {
    const u = new URL(this.href);
    u.searchParams.delete("record");
    return u.href.replace(/\?$/, "");
  }

  async goto(url) {
    await this.driver.goto(url);
    await this.evaluate(() => null);
  }
}

class AnyLocator {
  constructor(page, spec) {
    this.page = page;
    this.spec = spec;
  }

  first() {
    return this;
  }

  async waitFor({ timeout } = {}) {
    await poll(`${JSON.stringify(this.spec)} to appear`, () => this.page.act(this.spec, "exists"), timeout);
  }

  /** Waits for the element, then does action on it in the page. */
  async #act(action, value) {
    await this.waitFor();
    return this.page.act(this.spec, action, value);
  }

  async click() {
    await this.#act("click");
  }

  async fill(value) {
    await this.#act("fill", value);
  }

  inputValue() {
    return this.#act("inputValue");
  }

  textContent() {
    return this.#act("textContent");
  }

  getAttribute(name) {
    return this.#act("getAttribute", name);
  }

  evaluate(fn, arg) {
    return this.#act("evaluate", { src: fn.toString(), arg: arg === undefined ? null : arg });
  }
}
