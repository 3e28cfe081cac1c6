// The emulator's page: channels, DMs, threads, files, a composer, the App Home, live updates.
// blocks.js (mrkdwn, Block Kit) and views.js (modals, App Home) load first.
"use strict";

function renderMessage(message, channel, inThread) {
  const el = document.createElement("div");
  el.className = "message";
  el.dataset.ts = message.ts;
  const when = new Date(Number(message.ts) * 1000).toLocaleTimeString();
  el.innerHTML = `<span class="who">${escapeHtml(userName(message.user))}</span><span class="when">${when}</span>${message.edited ? '<span class="edited">(edited)</span>' : ""}${message.before_restart ? '<span class="before-restart" data-testid="before-restart" title="posted before the emulator restarted">· before restart</span>' : ""}`;
  if (message.broadcast && !inThread) {
    const label = document.createElement("div"); label.className = "broadcast"; label.dataset.testid = "broadcast";
    label.innerHTML = "replied to a thread: " + mrkdwn((message.root || {}).text || "").replace(/<br>/g, " ");
    label.addEventListener("click", () => openThread(message.thread_ts));
    el.appendChild(label);
  }
  if (message.blocks && message.blocks.length) el.appendChild(renderBlocks(message.blocks, { channel, ts: message.ts }));
  else { const t = document.createElement("div"); t.className = "text"; t.innerHTML = mrkdwn(message.text); el.appendChild(t); }
  if (message.files && message.files.length) el.appendChild(renderFiles(message.files));
  if (message.reactions && message.reactions.length) {
    const r = document.createElement("div"); r.className = "reactions";
    r.innerHTML = message.reactions.map((x) => `<span>:${escapeHtml(x.name)}: ${x.count}</span>`).join("");
    el.appendChild(r);
  }
  const replies = message.replies ? message.replies.length : 0;
  if (!inThread && !message.broadcast) {
    const link = document.createElement("div"); link.className = "replies";
    link.textContent = replies ? `${replies} ${replies === 1 ? "reply" : "replies"}` : "Reply in thread";
    link.addEventListener("click", () => openThread(message.ts));
    el.appendChild(link);
  }
  return el;
}

function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  return bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1048576).toFixed(1)} MB`;
}

// A message's files: name (a download through the emulator), kind, size, a text preview
// or the picture itself.
function renderFiles(files) {
  const box = document.createElement("div");
  box.className = "files";
  for (const file of files) {
    const item = document.createElement("div"); item.className = "file"; item.dataset.testid = "file";
    const link = document.createElement("a");
    link.href = `/_emulator/files/${encodeURIComponent(file.id)}/download`;
    link.download = file.name;
    link.textContent = file.title && file.title !== file.name ? `${file.title} (${file.name})` : file.name;
    const about = document.createElement("span"); about.className = "file-meta";
    about.textContent = `${file.pretty_type || file.filetype} · ${fileSize(file.size)}`;
    item.append(link, about);
    if ((file.mimetype || "").startsWith("image/")) {  // a chart, a diagram: shown, as Slack does
      const img = document.createElement("img");
      img.className = "file-image"; img.dataset.testid = "file-image";
      img.src = link.href; img.alt = file.title || file.name;
      item.appendChild(img);
    }
    if (file.preview !== undefined) {
      const pre = document.createElement("pre");
      pre.textContent = file.preview + (file.lines_more ? `\n… ${file.lines_more} more lines` : "");
      item.appendChild(pre);
    }
    box.appendChild(item);
  }
  return box;
}

function renderEphemeral(message) {
  const el = document.createElement("div");
  el.className = "ephemeral";
  el.innerHTML = '<div class="only-you">Only visible to you</div>';
  if (message.blocks && message.blocks.length) el.appendChild(renderBlocks(message.blocks, { channel: message.channel, ts: message.ts }));
  else { const t = document.createElement("div"); t.innerHTML = mrkdwn(message.text); el.appendChild(t); }
  return el;
}

async function refresh() {
  if (state.view === "home") return renderHome();
  const data = await api(`/_emulator/channels/${state.channel}/messages`);
  if (!data.ok) return;
  const box = $("messages");
  box.replaceChildren(...data.messages.map((m) => renderMessage(m, state.channel, false)));
  box.scrollTop = box.scrollHeight;
  if (state.thread) {
    const parent = data.messages.find((m) => m.ts === state.thread && !m.broadcast);
    if (parent) {
      $("thread-messages").replaceChildren(renderMessage(parent, state.channel, true), ...parent.replies.map((m) => renderMessage(m, state.channel, true)));
    }
  }
  const eph = await api(`/_emulator/ephemeral/${state.as}`);
  const mine = (eph.messages || []).filter((m) => m.channel === state.channel && (!state.thread || !m.thread_ts || m.thread_ts === state.thread));
  $("ephemeral").replaceChildren(...mine.map(renderEphemeral));
}

function openThread(ts) {
  state.thread = ts;
  $("thread").hidden = false;
  refresh();
}

function closeThread() {
  state.thread = null;
  $("thread").hidden = true;
}

function showChannel(id, label) {
  Object.assign(state, { channel: id, view: "channel" });
  closeThread();
  $("channel-name").textContent = label;
  for (const id of ["messages", "ephemeral", "composer"]) $(id).hidden = false;
  $("home").hidden = true;
  renderSidebar();
  refresh();
}

function renderSidebar() {
  const item = (id, label, onClick, active) => {
    const li = document.createElement("li");
    li.textContent = label;
    li.dataset.channel = id;
    li.className = active ? "active" : "";
    li.addEventListener("click", onClick);
    return li;
  };
  const inChannel = (id) => state.view === "channel" && state.channel === id;
  $("channels").replaceChildren(...state.channels.filter((c) => !c.is_im && c.members.includes(state.as)).map((c) => item(c.id, "# " + c.name, () => showChannel(c.id, "# " + c.name), inChannel(c.id))));
  const dm = "D" + state.as.slice(1);
  $("dms").replaceChildren(item(dm, "@ " + state.bot.name, () => showChannel(dm, "@ " + state.bot.name), inChannel(dm)));
  const app = item("home", state.bot.name, () => openHome(), state.view === "home");
  app.dataset.testid = "app-home";
  $("apps").replaceChildren(app);
}

function withMentions(text) {
  return text.replace(new RegExp("@" + state.bot.name + "\\b", "g"), `<@${state.bot.id}>`);
}

// A message with attached files, or the text as a snippet: a form, as Slack's upload.
async function sendFiles(textArea, threadTs, attach, snippet) {
  const files = [...attach.files];
  if (!files.length && !textArea.value.trim()) return;
  const form = new FormData();
  form.append("user", state.as);
  form.append("channel", state.channel);
  if (threadTs) form.append("thread_ts", threadTs);
  if (snippet.value) { form.append("snippet", textArea.value); form.append("snippet_type", snippet.value); }
  else form.append("text", withMentions(textArea.value.trim()));
  for (const file of files) form.append("file", file, file.name);
  textArea.value = ""; attach.value = ""; snippet.value = "";
  const sent = await (await fetch("/_emulator/files", { method: "POST", body: form })).json();
  if (!sent.ok) alert(sent.error);
  await refresh();
}

async function send(textArea, threadTs, attach, snippet) {
  if (attach && (attach.files.length || snippet.value)) return sendFiles(textArea, threadTs, attach, snippet);
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
  await api("/_emulator/messages", { user: state.as, channel: state.channel, text: withMentions(text), thread_ts: threadTs });
  await refresh();
}

async function actAs(user) {
  state.as = user;
  if (state.view === "channel" && state.channel.startsWith("D")) state.channel = "D" + user.slice(1);
  renderSidebar();
  shownModal = null;
  await refreshModal();
  if (state.view === "home") await openHome();
  else await refresh();
}

async function start() {
  const data = await api("/_emulator/state");
  Object.assign(state, { team: data.team, bot: data.bot, users: data.users, usergroups: data.usergroups || [], channels: data.channels });
  $("team").textContent = data.team.name;
  $("as-user").replaceChildren(...data.users.map((u) => { const o = document.createElement("option"); o.value = u.id; o.textContent = `${u.name} (${u.title || ""})`; return o; }));
  $("as-user").value = state.as;
  $("as-user").addEventListener("change", (e) => actAs(e.target.value));
  $("composer").addEventListener("submit", (e) => { e.preventDefault(); send($("text"), null, $("attach"), $("snippet-type")); });
  $("thread-composer").addEventListener("submit", (e) => { e.preventDefault(); send($("thread-text"), state.thread, $("thread-attach"), $("thread-snippet-type")); });
  for (const [area, form] of [["text", "composer"], ["thread-text", "thread-composer"]]) {
    $(area).addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $(form).requestSubmit(); } });
  }
  $("close-thread").addEventListener("click", closeThread);
  $("clear-workspace").addEventListener("click", async () => {
    if (!confirm("Forget every message, thread, DM and view of this local Slack?")) return;
    await api("/_emulator/reset", {});
    closeThread();
    await refresh();
  });
  setUpModal();
  renderSidebar();
  await refresh();
  await refreshModal();
  const live = () => {
    const socket = new WebSocket(`ws://${location.host}/_emulator/live`);
    socket.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === "views") {
        if (msg.user !== state.as && msg.user !== "*") return;
        refreshModal();
        if (state.view === "home") renderHome();
        return;
      }
      if (msg.channel === "*") refreshModal();
      if (state.view === "channel" && (msg.channel === state.channel || msg.channel === "*")) refresh();
    };
    socket.onclose = () => setTimeout(live, 1000);
  };
  live();
}

start();
