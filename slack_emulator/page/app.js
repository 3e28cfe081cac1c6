// The emulator's page: channels, messages, threads, a composer, Block Kit, live updates.
"use strict";
const $ = (id) => document.getElementById(id);
const state = { team: null, bot: null, users: [], channels: [], channel: "C0GENERAL", thread: null, as: "U0ALICE" };

async function api(path, body) {
  const response = await fetch(path, body ? { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) } : {});
  return response.json();
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function userName(id) {
  if (state.bot && id === state.bot.id) return state.bot.name;
  const user = state.users.find((u) => u.id === id);
  return user ? user.name : id;
}

const EMOJI = {
  white_check_mark: "✅", x: "❌", hourglass_flowing_sand: "⏳", raised_hand: "✋", white_circle: "⚪",
  fast_forward: "⏩", no_entry_sign: "🚫", rocket: "🚀", gear: "⚙️", no_entry: "⛔", hourglass: "⌛",
  warning: "⚠️", information_source: "ℹ️", tada: "🎉", eyes: "👀",
};

// Slack's mrkdwn: *bold*, _italic_, ~strike~, `code`, ```blocks```, <url|text>, <@U…>, <!subteam^S…>.
function mrkdwn(text) {
  const blocks = [];
  let html = escapeHtml(text || "").replace(/```([\s\S]*?)```/g, (_, code) => { blocks.push(code); return `\u0000${blocks.length - 1}\u0000`; });
  html = html
    .replace(/&lt;@([A-Z0-9]+)&gt;/g, (_, id) => `<span class="mention">@${escapeHtml(userName(id))}</span>`)
    .replace(/&lt;!subteam\^([A-Z0-9]+)(?:\|([^&]*))?&gt;/g, (_, id, label) => `<span class="mention">${escapeHtml(label || "@" + id)}</span>`)
    .replace(/&lt;(https?:\/\/[^|&]+)\|([^&]+)&gt;/g, '<a href="$1" target="_blank">$2</a>')
    .replace(/&lt;(https?:\/\/[^&]+)&gt;/g, '<a href="$1" target="_blank">$1</a>')
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/(^|[\s(])\*([^*\n]+)\*/g, "$1<b>$2</b>")
    .replace(/(^|[\s(])_([^_\n]+)_/g, "$1<i>$2</i>")
    .replace(/(^|[\s(])~([^~\n]+)~/g, "$1<s>$2</s>")
    .replace(/:([a-z0-9_+-]+):/g, (all, name) => EMOJI[name] || all)
    .replace(/\n/g, "<br>");
  return html.replace(/\u0000(\d+)\u0000/g, (_, i) => `<pre>${blocks[Number(i)]}</pre>`);
}

function textObject(obj) {
  if (!obj) return "";
  return obj.type === "mrkdwn" ? mrkdwn(obj.text) : escapeHtml(obj.text);
}

function button(element, message, channel) {
  const b = document.createElement("button");
  b.textContent = element.text ? element.text.text : element.action_id;
  b.dataset.actionId = element.action_id;
  if (element.style) b.className = element.style;
  b.addEventListener("click", async () => {
    if (element.confirm && !(await confirmDialog(element.confirm))) return;
    await api("/_emulator/actions", { user: state.as, channel, message_ts: message.ts, action_id: element.action_id });
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

function renderBlocks(blocks, message, channel) {
  const box = document.createElement("div");
  for (const block of blocks) {
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
      if (block.accessory && block.accessory.type === "button") el.appendChild(button(block.accessory, message, channel));
    } else if (block.type === "context") {
      el = document.createElement("div"); el.className = "block-context";
      el.innerHTML = (block.elements || []).map((e) => (e.type === "image" ? "" : textObject(e))).join(" · ");
    } else if (block.type === "divider") {
      el = document.createElement("hr"); el.className = "block-divider";
    } else if (block.type === "actions") {
      el = document.createElement("div"); el.className = "block-actions";
      for (const element of block.elements || []) if (element.type === "button") el.appendChild(button(element, message, channel));
    } else {
      continue;
    }
    box.appendChild(el);
  }
  return box;
}

function renderMessage(message, channel, inThread) {
  const el = document.createElement("div");
  el.className = "message";
  el.dataset.ts = message.ts;
  const when = new Date(Number(message.ts) * 1000).toLocaleTimeString();
  el.innerHTML = `<span class="who">${escapeHtml(userName(message.user))}</span><span class="when">${when}</span>${message.edited ? '<span class="edited">(edited)</span>' : ""}`;
  if (message.blocks && message.blocks.length) el.appendChild(renderBlocks(message.blocks, message, channel));
  else { const t = document.createElement("div"); t.className = "text"; t.innerHTML = mrkdwn(message.text); el.appendChild(t); }
  if (message.reactions && message.reactions.length) {
    const r = document.createElement("div"); r.className = "reactions";
    r.innerHTML = message.reactions.map((x) => `<span>:${escapeHtml(x.name)}: ${x.count}</span>`).join("");
    el.appendChild(r);
  }
  const replies = message.replies ? message.replies.length : 0;
  if (!inThread && replies) {
    const link = document.createElement("div"); link.className = "replies";
    link.textContent = `${replies} ${replies === 1 ? "reply" : "replies"}`;
    link.addEventListener("click", () => openThread(message.ts));
    el.appendChild(link);
  } else if (!inThread) {
    const link = document.createElement("div"); link.className = "replies"; link.textContent = "Reply in thread";
    link.addEventListener("click", () => openThread(message.ts));
    el.appendChild(link);
  }
  return el;
}

async function refresh() {
  const data = await api(`/_emulator/channels/${state.channel}/messages`);
  if (!data.ok) return;
  const box = $("messages");
  box.replaceChildren(...data.messages.map((m) => renderMessage(m, state.channel, false)));
  box.scrollTop = box.scrollHeight;
  if (state.thread) {
    const parent = data.messages.find((m) => m.ts === state.thread);
    if (parent) {
      $("thread-messages").replaceChildren(renderMessage(parent, state.channel, true), ...parent.replies.map((m) => renderMessage(m, state.channel, true)));
    }
  }
  const eph = await api(`/_emulator/ephemeral/${state.as}`);
  const mine = (eph.messages || []).filter((m) => m.channel === state.channel && (!state.thread || !m.thread_ts || m.thread_ts === state.thread));
  $("ephemeral").replaceChildren(...mine.map((m) => { const d = document.createElement("div"); d.className = "ephemeral"; d.innerHTML = "Only visible to you: " + mrkdwn(m.text); return d; }));
}

function openThread(ts) {
  state.thread = ts;
  $("thread").hidden = false;
  refresh();
}

function renderSidebar() {
  const item = (channel, label) => {
    const li = document.createElement("li");
    li.textContent = label;
    li.dataset.channel = channel.id;
    li.className = channel.id === state.channel ? "active" : "";
    li.addEventListener("click", () => { state.channel = channel.id; state.thread = null; $("thread").hidden = true; $("channel-name").textContent = label; renderSidebar(); refresh(); });
    return li;
  };
  $("channels").replaceChildren(...state.channels.filter((c) => !c.is_im && c.members.includes(state.as)).map((c) => item(c, "# " + c.name)));
  const dm = { id: "D" + state.as.slice(1) };
  $("dms").replaceChildren(item(dm, "@ " + state.bot.name));
}

async function send(textArea, threadTs) {
  const text = textArea.value.trim();
  if (!text) return;
  textArea.value = "";
  const command = text.match(/^(\/[a-z][a-z0-9_-]*)\s*([\s\S]*)$/);
  if (command && !threadTs) {  // as in Slack, a slash command posts nothing itself
    const sent = await api("/_emulator/commands", { user: state.as, channel: state.channel, command: command[1], text: command[2] });
    if (!sent.ok) alert(sent.error);
    await refresh();
    return;
  }
  await api("/_emulator/messages", { user: state.as, channel: state.channel, text: text.replace(new RegExp("@" + state.bot.name + "\\b", "g"), `<@${state.bot.id}>`), thread_ts: threadTs });
  await refresh();
}

async function start() {
  const data = await api("/_emulator/state");
  Object.assign(state, { team: data.team, bot: data.bot, users: data.users, channels: data.channels });
  $("team").textContent = data.team.name;
  $("as-user").replaceChildren(...data.users.map((u) => { const o = document.createElement("option"); o.value = u.id; o.textContent = `${u.name} (${u.title || ""})`; return o; }));
  $("as-user").value = state.as;
  $("as-user").addEventListener("change", (e) => { state.as = e.target.value; renderSidebar(); refresh(); });
  $("composer").addEventListener("submit", (e) => { e.preventDefault(); send($("text"), null); });
  $("thread-composer").addEventListener("submit", (e) => { e.preventDefault(); send($("thread-text"), state.thread); });
  for (const [area, form] of [["text", "composer"], ["thread-text", "thread-composer"]]) {
    $(area).addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $(form).requestSubmit(); } });
  }
  $("close-thread").addEventListener("click", () => { state.thread = null; $("thread").hidden = true; });
  renderSidebar();
  await refresh();
  const live = () => {
    const socket = new WebSocket(`ws://${location.host}/_emulator/live`);
    socket.onmessage = (event) => { const msg = JSON.parse(event.data); if (msg.channel === state.channel || msg.channel === "*") refresh(); };
    socket.onclose = () => setTimeout(live, 1000);
  };
  live();
}

start();
