// Slack's mrkdwn and Block Kit, drawn as Slack draws them: messages, App Home and modals.
"use strict";
const $ = (id) => document.getElementById(id);
const state = {
  team: null, bot: null, users: [], usergroups: [], channels: [], channel: "C0GENERAL",
  thread: null, as: "U0ALICE", view: "channel",
};

async function api(path, body) {
  const response = await fetch(path, body ? { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) } : {});
  return response.json();
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// Slack senders escape &, < and > as entities; show them as the characters they stand for.
function unescapeSlack(text) {
  return String(text).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function userName(id) {
  if (state.bot && id === state.bot.id) return state.bot.name;
  const user = state.users.find((u) => u.id === id);
  return user ? user.name : id;
}

const EMOJI = {
  white_check_mark: "✅", x: "❌", hourglass_flowing_sand: "⏳", raised_hand: "✋", white_circle: "⚪",
  fast_forward: "⏩", no_entry_sign: "🚫", rocket: "🚀", gear: "⚙️", no_entry: "⛔", hourglass: "⌛",
  warning: "⚠️", information_source: "ℹ️", tada: "🎉", eyes: "👀", link: "🔗", wastebasket: "🗑️",
};

// <!date^1767225600^{date_short_pretty} at {time}|fallback>, in this browser's time zone.
function slackDate(seconds, format, fallback) {
  const when = new Date(Number(seconds) * 1000);
  if (!format || Number.isNaN(when.getTime())) return fallback;
  const day = (options) => when.toLocaleDateString(undefined, options);
  const parts = {
    date_num: when.toISOString().slice(0, 10), date: day({ month: "long", day: "numeric", year: "numeric" }),
    date_short: day({ month: "short", day: "numeric", year: "numeric" }), date_long: day({ weekday: "long", month: "long", day: "numeric", year: "numeric" }),
    time: when.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" }), time_secs: when.toLocaleTimeString(),
  };
  parts.date_pretty = parts.date; parts.date_short_pretty = parts.date_short; parts.date_long_pretty = parts.date_long;
  return format.replace(/\{(\w+)\}/g, (all, name) => parts[name] || all);
}

// One <…> token of Slack's markup, as HTML.
function token(inner) {
  const [target, ...rest] = inner.split("|");
  const label = rest.length ? unescapeSlack(rest.join("|")) : null;
  const mention = (text) => `<span class="mention">${escapeHtml(text)}</span>`;
  let m;
  if ((m = target.match(/^@([UW][A-Z0-9]+)$/))) return mention("@" + (label || userName(m[1])));
  if ((m = target.match(/^#(C[A-Z0-9]+)$/))) {
    const channel = state.channels.find((c) => c.id === m[1]);
    return mention("#" + (label || (channel ? channel.name : m[1])));
  }
  if ((m = target.match(/^!(here|channel|everyone)$/))) return mention("@" + m[1]);
  if ((m = target.match(/^!subteam\^([A-Z0-9]+)$/))) {
    const group = state.usergroups.find((g) => g.id === m[1]);
    return mention(label || "@" + (group ? group.handle : m[1]));
  }
  if ((m = target.match(/^!date\^(\d+)\^([^^]*)(?:\^.*)?$/))) return `<time>${escapeHtml(slackDate(m[1], unescapeSlack(m[2]), label || ""))}</time>`;
  if (/^(https?:\/\/|mailto:)/.test(target)) {
    const href = unescapeSlack(target);
    return `<a href="${escapeHtml(href)}" target="_blank">${escapeHtml(label || href.replace(/^mailto:/, ""))}</a>`;
  }
  return escapeHtml(unescapeSlack(`<${inner}>`));
}

// Slack's mrkdwn: *bold*, _italic_, ~strike~, `code`, ```blocks```, and <…> tokens.
function mrkdwn(text) {
  const held = [];
  const hold = (html) => { held.push(html); return `\u0001${held.length - 1}\u0001`; };
  let raw = String(text || "").replace(/```([\s\S]*?)```/g, (_, code) => hold(`<pre>${escapeHtml(unescapeSlack(code))}</pre>`));
  raw = raw.replace(/<([^<>\n]+)>/g, (_, inner) => hold(token(inner)));
  const html = escapeHtml(unescapeSlack(raw))
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/(^|[\s(])\*([^*\n]+)\*/g, "$1<b>$2</b>")
    .replace(/(^|[\s(])_([^_\n]+)_/g, "$1<i>$2</i>")
    .replace(/(^|[\s(])~([^~\n]+)~/g, "$1<s>$2</s>")
    .replace(/:([a-z0-9_+-]+):/g, (all, name) => EMOJI[name] || all)
    .replace(/\n/g, "<br>");
  return html.replace(/\u0001(\d+)\u0001/g, (_, i) => held[Number(i)]);
}

function textObject(obj) {
  if (!obj) return "";
  return obj.type === "mrkdwn" ? mrkdwn(obj.text) : escapeHtml(obj.text);
}

// `where` is {channel, ts} for a message, or {view_id} for a modal or the App Home.
function button(element, where) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = element.text ? element.text.text : element.action_id;
  b.dataset.actionId = element.action_id;
  if (element.style) b.className = element.style;
  b.addEventListener("click", async () => {
    if (element.url) window.open(element.url, "_blank");
    if (element.confirm && !(await confirmDialog(element.confirm))) return;
    const click = where.view_id
      ? { user: state.as, view_id: where.view_id, action_id: element.action_id }
      : { user: state.as, channel: where.channel, message_ts: where.ts, action_id: element.action_id };
    await api("/_emulator/actions", click);
  });
  return b;
}

function confirmDialog(confirm) {
  const dialog = $("confirm");
  $("confirm-title").textContent = confirm.title ? confirm.title.text : "Are you sure?";
  $("confirm-text").innerHTML = textObject(confirm.text);
  $("confirm-ok").textContent = confirm.confirm ? confirm.confirm.text : "Confirm";
  $("confirm-deny").textContent = confirm.deny ? confirm.deny.text : "Cancel";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}

// An input block in a modal: its label, the field, and a place for its error.
function inputBlock(block, values) {
  const el = document.createElement("div"); el.className = "block-input"; el.dataset.blockId = block.block_id;
  const label = document.createElement("label");
  label.innerHTML = `<span>${escapeHtml(block.label ? block.label.text : "")}${block.optional ? ' <span class="optional">(optional)</span>' : ""}</span>`;
  el.appendChild(label);
  const element = block.element || {};
  const typed = ((values[block.block_id] || {})[element.action_id] || {});
  let field;
  if (element.type === "static_select") {
    field = document.createElement("select");
    field.appendChild(new Option(element.placeholder ? element.placeholder.text : "Choose…", ""));
    for (const o of element.options || []) field.appendChild(new Option(o.text.text, o.value));
    field.value = (typed.selected_option || element.initial_option || {}).value || "";
  } else {
    field = document.createElement(element.multiline ? "textarea" : "input");
    if (element.placeholder) field.placeholder = element.placeholder.text;
    field.value = typed.value ?? element.initial_value ?? "";
  }
  field.dataset.blockId = block.block_id;
  field.dataset.actionId = element.action_id;
  label.appendChild(field);
  if (block.hint) { const hint = document.createElement("div"); hint.className = "hint"; hint.textContent = block.hint.text; el.appendChild(hint); }
  return el;
}

function renderBlocks(blocks, where, values) {
  const box = document.createElement("div");
  for (const block of blocks || []) {
    let el;
    if (block.type === "header") {
      el = document.createElement("div"); el.className = "block-header"; el.innerHTML = textObject(block.text);
    } else if (block.type === "section") {
      el = document.createElement("div"); el.className = "block-section";
      if (block.text) { const t = document.createElement("div"); t.innerHTML = textObject(block.text); el.appendChild(t); }
      if (block.fields) {
        const f = document.createElement("div"); f.className = "block-fields";
        for (const field of block.fields) { const c = document.createElement("div"); c.innerHTML = textObject(field); f.appendChild(c); }
        el.appendChild(f);
      }
      if (block.accessory && block.accessory.type === "button") el.appendChild(button(block.accessory, where));
    } else if (block.type === "context") {
      el = document.createElement("div"); el.className = "block-context";
      el.innerHTML = (block.elements || []).map((e) => (e.type === "image" ? "" : textObject(e))).join(" · ");
    } else if (block.type === "divider") {
      el = document.createElement("hr"); el.className = "block-divider";
    } else if (block.type === "actions") {
      el = document.createElement("div"); el.className = "block-actions";
      for (const element of block.elements || []) if (element.type === "button") el.appendChild(button(element, where));
    } else if (block.type === "input") {
      el = inputBlock(block, values || {});
    } else if (block.type === "markdown") {
      el = document.createElement("div"); el.className = "block-section"; el.innerHTML = mrkdwn(block.text);
    } else {
      continue;
    }
    box.appendChild(el);
  }
  return box;
}
