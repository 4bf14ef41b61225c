// A shared client's subscription ids: each tab numbers its subscriptions
// from 1, so the client gives each a client-wide id, hands Go the tab's
// commands in those ids (with the tab's origin, so that the echo of a
// publish skips that tab only), and hands each tab back, in its own ids,
// the events and states Go reported. A client's `subs` maps a client-wide
// id to { tab, local, channel }; a tab's `ids` maps its id to the client's
// and `channels` counts its subscriptions per channel.
import { publishCommand, subscribeCommand, unsubscribeCommand } from "./contract.js";

/**
 * A tab's command batch (JSON text, contract.js) as the client's commands.
 * Throws on text that is not a JSON array.
 * @returns {string[]}
 */
export function inClientIds(tab, client, text) {
  const out = [];
  for (const cmd of JSON.parse(text)) {
    switch (cmd[0]) {
      case "s": {
        const [, local, channel, types, ids, coalesceMs, ageMs] = cmd;
        const previous = tab.ids.get(local);
        if (previous !== undefined) out.push(unsubscribeCommand(forget(tab, client, local, previous)));
        const id = client.nextId++;
        tab.ids.set(local, id);
        client.subs.set(id, { tab, local, channel });
        tab.channels.set(channel, (tab.channels.get(channel) ?? 0) + 1);
        out.push(subscribeCommand(id, channel, types, ids, coalesceMs, ageMs, tab.origin));
        break;
      }
      case "u": {
        const id = tab.ids.get(cmd[1]);
        if (id !== undefined) out.push(unsubscribeCommand(forget(tab, client, cmd[1], id)));
        break;
      }
      case "p": {
        const [, channel, type, payload, meta] = cmd;
        out.push(publishCommand(channel, type, JSON.stringify(payload), meta === null ? null : JSON.stringify(meta), tab.origin));
        break;
      }
      default:
        out.push(JSON.stringify(cmd));
    }
  }
  return out;
}

function forget(tab, client, local, id) {
  const sub = client.subs.get(id);
  client.subs.delete(id);
  tab.ids.delete(local);
  const n = (tab.channels.get(sub?.channel) ?? 1) - 1;
  if (n > 0) tab.channels.set(sub.channel, n);
  else tab.channels.delete(sub?.channel);
  return id;
}

/** Forgets every subscription of a tab that left; returns their client-wide ids. */
export function forgetTab(tab, client) {
  const ids = [...tab.ids.values()];
  for (const id of ids) client.subs.delete(id);
  tab.ids.clear();
  tab.channels.clear();
  return ids;
}

/**
 * decodeBatch's pairs, split per tab in the tabs' ids: an event several
 * tabs receive is one object, sent to each.
 * @returns {Map<any, Array<[number[], any]>>}
 */
export function eventsPerTab(client, pairs) {
  const perTab = new Map();
  for (const [ids, event] of pairs) {
    const local = new Map();
    for (const id of ids) {
      const sub = client.subs.get(id);
      if (sub === undefined) continue;
      const list = local.get(sub.tab);
      if (list === undefined) local.set(sub.tab, [sub.local]);
      else list.push(sub.local);
    }
    for (const [tab, list] of local) {
      const tabPairs = perTab.get(tab);
      if (tabPairs === undefined) perTab.set(tab, [[list, event]]);
      else tabPairs.push([list, event]);
    }
  }
  return perTab;
}

/**
 * Go's states, [id, "state", …], split per tab in the tabs' ids.
 * @returns {Map<any, Array<number | string>>}
 */
export function statesPerTab(client, items) {
  const perTab = new Map();
  for (let i = 0; i + 1 < items.length; i += 2) {
    const sub = client.subs.get(items[i]);
    if (sub === undefined) continue;
    const list = perTab.get(sub.tab) ?? [];
    list.push(sub.local, items[i + 1]);
    perTab.set(sub.tab, list);
  }
  return perTab;
}
