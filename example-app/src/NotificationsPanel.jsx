import { usePublish, useSubscription } from "@refinedev/core";
import { useState } from "react";

export const NOTIFICATIONS = "notifications";
// Identifies this page's messages, for display only: the live client itself
// keeps a page's own publishes from coming back to it.
const sender = Math.random().toString(36).slice(2, 8);

/** A custom channel: useSubscription to receive, usePublish to send. */
export function NotificationsPanel() {
  const publish = usePublish();
  const [text, setText] = useState("");
  const [received, setReceived] = useState([]);
  const [sent, setSent] = useState([]);

  useSubscription({
    channel: NOTIFICATIONS,
    types: ["message"],
    onLiveEvent: (event) => {
      const entry = { key: `${Date.now()}-${Math.random()}`, text: String(event?.payload?.text ?? ""), from: event?.payload?.from };
      setReceived((list) => [entry, ...list].slice(0, 50));
    },
  });

  const send = (e) => {
    e.preventDefault();
    const message = text.trim();
    if (message === "" || !publish) return;
    publish({ channel: NOTIFICATIONS, type: "message", payload: { text: message, from: sender }, date: new Date() });
    setSent((list) => [{ key: `${Date.now()}-${Math.random()}`, text: message }, ...list].slice(0, 50));
    setText("");
  };

  return (
    <section className="panel" data-testid="notifications">
      <h2>Notifications</h2>
      <form onSubmit={send} className="inline-form">
        <input
          data-testid="notification-input"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="Say something to the other pages"
          aria-label="Notification text"
        />
        <button type="submit" data-testid="notification-send" disabled={!publish}>
          Send
        </button>
      </form>
      <ul className="log">
        {received.map((n) => (
          <li key={n.key} data-testid="notification-received" data-text={n.text}>
            {n.text} <small>from {String(n.from ?? "server")}</small>
          </li>
        ))}
        {sent.map((n) => (
          <li key={n.key} data-testid="notification-sent" data-text={n.text} className="sent">
            {n.text} <small>sent</small>
          </li>
        ))}
      </ul>
    </section>
  );
}
