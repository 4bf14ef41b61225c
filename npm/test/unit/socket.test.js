import assert from "node:assert/strict";
import { test } from "node:test";
import { openSocket } from "../../socket.js";
import { tick, until } from "./fake-runtime.js";

class FakeWebSocket {
  static last = null;
  constructor(url) {
    if (!url.startsWith("ws")) throw new SyntaxError("invalid URL");
    this.url = url;
    this.sent = [];
    this.closedWith = null;
    this.bufferedAmount = 0;
    FakeWebSocket.last = this;
  }
  send(text) {
    this.sent.push(text);
  }
  close(code, reason) {
    if (code !== undefined && code !== 1000 && (code < 3000 || code > 4999)) throw new DOMException("bad code", "InvalidAccessError");
    this.closedWith = [code, reason];
  }
  // helpers driving the socket as a browser would
  open() {
    this.onopen?.({});
  }
  message(data) {
    this.onmessage?.({ data });
  }
  fail() {
    this.onerror?.({});
    this.onclose?.({ code: 1006, reason: "" });
  }
}

function recordingSink() {
  const log = [];
  return {
    log,
    id: 7,
    onOpen: () => log.push(["open"]),
    onClose: (code, reason) => log.push(["close", code, reason]),
    // contract.js's frames, as the shim hands it to openSocket.
    frames: (socket, joined) => log.push(["messages", joined, socket]),
  };
}

// contract.js's bindExports, over a pretend Go memory.
const memory = new Map();
const goSide = (sink) => ({ frames: sink.frames ?? (() => {}), text: (address, length) => memory.get(address).slice(0, length) });
const open = (url, sink) => openSocket(url, sink, goSide(sink), FakeWebSocket);

test("a frame on a quiet socket reaches Go at once; a burst reaches it in one call, joined by \\x1e", async () => {
  const sink = recordingSink();
  const socket = open("ws://h/live", sink);
  const ws = FakeWebSocket.last;
  ws.open();
  ws.message('{"a":1}');
  assert.deepEqual(sink.log, [["open"], ["messages", '{"a":1}', 7]]);
  // Within the same task the socket is in a burst: the rest waits.
  ws.message('{"b":2}');
  ws.message(new ArrayBuffer(4));
  ws.message('{"c":3}');
  assert.equal(sink.log.length, 2);
  await until(() => sink.log.length === 3);
  assert.deepEqual(sink.log.at(-1), ["messages", '{"b":2}\x1e{"c":3}', 7]);
  assert.equal(socket.binaryFrames, 1);
  // A macrotask without frames ends the burst: the next frame goes at once.
  await tick();
  await tick();
  ws.message('{"d":4}');
  assert.deepEqual(sink.log.at(-1), ["messages", '{"d":4}', 7]);
});

test("sendFrom sends the text Go holds at an address, only while open", () => {
  const socket = open("ws://h/live", recordingSink());
  const ws = FakeWebSocket.last;
  memory.set(4096, '{"é":1}and more');
  assert.equal(socket.sendFrom(4096, 7), false); // not open yet
  ws.open();
  assert.equal(socket.sendFrom(4096, 7), true);
  assert.deepEqual(ws.sent, ['{"é":1}']);
});

test("pending frames are flushed before onClose", () => {
  const sink = recordingSink();
  open("ws://h/live", sink);
  const ws = FakeWebSocket.last;
  ws.open();
  ws.message("1");
  ws.message("2");
  ws.onclose({ code: 4001, reason: "bye" });
  assert.deepEqual(sink.log, [["open"], ["messages", "1", 7], ["messages", "2", 7], ["close", 4001, "bye"]]);
});

test("an error before open reports 1006 once", async () => {
  const sink = recordingSink();
  open("ws://h/live", sink);
  FakeWebSocket.last.fail();
  await tick();
  await tick();
  assert.deepEqual(sink.log, [["close", 1006, ""]]);
});

test("after close() the sink hears nothing more", async () => {
  const sink = recordingSink();
  const socket = open("ws://h/live", sink);
  const ws = FakeWebSocket.last;
  ws.open();
  ws.message("first");
  ws.message("lost"); // waits for the end of the burst, which never comes
  socket.close(1000, "done");
  assert.deepEqual(ws.closedWith, [1000, "done"]);
  ws.message("late");
  ws.onclose?.({ code: 1000, reason: "" });
  await tick();
  assert.deepEqual(sink.log, [["open"], ["messages", "first", 7]]);
  memory.set(1, "x");
  assert.equal(socket.sendFrom(1, 1), false);
});

test("a close code the browser refuses falls back to a plain close", () => {
  const socket = open("ws://h/live", recordingSink());
  const ws = FakeWebSocket.last;
  ws.open();
  socket.close(1006, "");
  assert.deepEqual(ws.closedWith, [undefined, undefined]);
});

test("a constructor that throws is reported as onClose(1006) in a later task", async () => {
  const sink = recordingSink();
  const socket = open("nope", sink);
  assert.deepEqual(sink.log, []);
  await until(() => sink.log.length === 1);
  assert.deepEqual(sink.log, [["close", 1006, ""]]);
  memory.set(1, "x");
  assert.equal(socket.sendFrom(1, 1), false);
});
