// Modals and the App Home of the person the page acts as.
"use strict";
let shownModal = null;  // {id, hash} of the view in the dialog, so typing survives redraws

async function refreshModal() {
  const data = await api(`/_emulator/modals/${state.as}`);
  const view = (data.views || []).at(-1);
  const dialog = $("modal");
  if (!view) {
    shownModal = null;
    if (dialog.open) dialog.close();
    return;
  }
  if (shownModal && shownModal.id === view.id && shownModal.hash === view.hash && dialog.open) return;
  shownModal = { id: view.id, hash: view.hash };
  $("modal-title").textContent = view.title ? view.title.text : "";
  $("modal-body").replaceChildren(renderBlocks(view.blocks, { view_id: view.id }, (view.state || {}).values));
  $("modal-general-error").hidden = true;
  $("modal-close").textContent = view.close ? view.close.text : "Cancel";
  $("modal-submit").hidden = !view.submit;
  if (view.submit) $("modal-submit").textContent = view.submit.text;
  if (!dialog.open) dialog.showModal();
}

function modalValues() {
  const values = {};
  for (const field of $("modal-body").querySelectorAll("[data-block-id][data-action-id]")) {
    if (!["INPUT", "TEXTAREA", "SELECT"].includes(field.tagName)) continue;
    (values[field.dataset.blockId] ||= {})[field.dataset.actionId] = field.value;
  }
  return values;
}

function showModalErrors(errors) {
  for (const old of $("modal-body").querySelectorAll('[data-testid="modal-error"]')) old.remove();
  for (const [blockId, message] of Object.entries(errors || {})) {
    const block = [...$("modal-body").querySelectorAll(".block-input")].find((b) => b.dataset.blockId === blockId);
    const note = document.createElement("div");
    note.className = "modal-error"; note.dataset.testid = "modal-error"; note.textContent = message;
    (block || $("modal-body")).appendChild(note);
  }
}

async function submitModal() {
  if (!shownModal) return;
  const sent = await api(`/_emulator/views/${shownModal.id}/submit`, { user: state.as, values: modalValues() });
  if (sent.ok) return refreshModal();
  if (sent.error === "invalid_submission") return showModalErrors(sent.errors);
  $("modal-general-error").textContent = sent.error === "not_acked" ? "We had some trouble connecting. Try again?" : sent.error;
  $("modal-general-error").hidden = false;
}

async function closeModal() {
  if (shownModal) await api(`/_emulator/views/${shownModal.id}/close`, { user: state.as });
  await refreshModal();
}

async function renderHome() {
  const data = await api(`/_emulator/home/${state.as}`);
  const view = data.view;
  const home = $("home");
  if (!view) {
    const empty = document.createElement("p"); empty.className = "empty"; empty.textContent = "This app has no Home for you yet.";
    home.replaceChildren(empty);
    return;
  }
  home.replaceChildren(renderBlocks(view.blocks, { view_id: view.id }));
}

async function openHome() {
  state.view = "home"; state.thread = null;
  $("thread").hidden = true;
  $("channel-name").textContent = `${state.bot.name} · Home`;
  for (const id of ["messages", "ephemeral", "composer"]) $(id).hidden = true;
  $("home").hidden = false;
  renderSidebar();
  await renderHome();  // what was published before, then the app's answer to home_opened
  await api("/_emulator/home_opened", { user: state.as });
}

function setUpModal() {
  $("modal-form").addEventListener("submit", (e) => { e.preventDefault(); submitModal(); });
  $("modal-close").addEventListener("click", () => closeModal());
  $("modal").addEventListener("cancel", (e) => { e.preventDefault(); closeModal(); });
}
