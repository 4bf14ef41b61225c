// The JavaScript half of the bridge contract against the fixtures that the
// Go half's tests read too (jsbridge/testdata/contract/): what the shim
// writes is what Go reads, and what Go writes is what the shim reads.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  decodeBatch,
  joinCommands,
  publishCommand,
  RECONNECT_COMMAND,
  splitOutbox,
  subscribeCommand,
  unsubscribeCommand,
} from "../../contract.js";

const fixture = (name) => JSON.parse(readFileSync(new URL(`../../../jsbridge/testdata/contract/${name}`, import.meta.url), "utf8"));
const commands = fixture("commands.json");
const events = fixture("events.json");

const encoders = {
  subscribe: subscribeCommand,
  unsubscribe: unsubscribeCommand,
  publish: publishCommand,
  reconnect: () => RECONNECT_COMMAND,
};

describe("command batches", () => {
  for (const c of commands.commands) {
    test(c.name, () => {
      const [kind, ...args] = c.encode;
      const text = encoders[kind](...args);
      assert.equal(text, c.text);
      // The text is JSON whose fields are what Go reads.
      const parsed = JSON.parse(text);
      assert.equal(parsed[0], c.read.kind);
    });
  }

  test("a batch is the commands joined into one JSON array", () => {
    const texts = commands.commands.map((c) => c.text);
    const batch = joinCommands(texts);
    assert.equal(batch, `[${texts.join(",")}]`);
    assert.equal(JSON.parse(batch).length, texts.length);
  });
});

describe("event batches", () => {
  for (const b of events.batches) {
    test(b.name, () => {
      const pairs = decodeBatch(b.text);
      assert.equal(pairs.length, b.deliveries.length);
      pairs.forEach(([ids, event], i) => {
        const want = b.deliveries[i];
        assert.deepEqual(ids, want.ids);
        assert.equal(event.channel, want.event.channel);
        assert.equal(event.type, want.event.type);
        assert.deepEqual(event.payload, want.event.payload === "" ? {} : JSON.parse(want.event.payload));
        assert.ok(event.date instanceof Date);
        assert.equal(event.date.getTime(), want.event.date);
        assert.equal(event.id, want.event.id);
        assert.deepEqual(event.meta, want.event.meta === undefined ? undefined : JSON.parse(want.event.meta));
      });
    });
  }

  test("the outbox splits into each client's batch", () => {
    assert.deepEqual(splitOutbox(events.outbox.text), events.outbox.sections);
    assert.deepEqual(splitOutbox(""), []);
  });
});

describe("status codes", () => {
  const codes = fixture("status-codes.json");
  const dts = readFileSync(new URL("../../index.d.ts", import.meta.url), "utf8");
  const union = dts.slice(dts.indexOf("export type LiveStatusCode ="), dts.indexOf(";", dts.indexOf("export type LiveStatusCode =")));

  test("index.d.ts's LiveStatusCode is exactly the engine's codes and the shim's", () => {
    const declared = [...union.matchAll(/"([a-z_]+)"/g)].map((m) => m[1]).sort();
    assert.deepEqual(declared, [...new Set([...codes.engine, ...codes.shim])].sort());
  });

  test("every code the shim claims as its own is one it sets", () => {
    const shimSource = ["status.js", "client.js"].map((f) => readFileSync(new URL(`../../${f}`, import.meta.url), "utf8")).join("\n");
    for (const code of codes.shim) assert.ok(shimSource.includes(`"${code}"`), `${code} is set by the shim`);
  });
});

