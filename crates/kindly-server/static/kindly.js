// Kindly's console: one-click inserts into the reply, SLA countdowns, queue polling, and drafts
// that survive a reload, an expired session or a refused save.
// Plain JavaScript, no dependencies; every page also works without it.
"use strict";

function insertIntoReply(text) {
  const reply = document.getElementById("reply");
  if (!reply) return;
  const start = reply.selectionStart ?? reply.value.length;
  const end = reply.selectionEnd ?? reply.value.length;
  const before = reply.value.slice(0, start);
  const glue = before && !before.endsWith("\n") ? "\n\n" : "";
  reply.value = before + glue + text + reply.value.slice(end);
  reply.focus();
  const caret = (before + glue + text).length;
  reply.setSelectionRange(caret, caret);
  reply.dispatchEvent(new Event("input", { bubbles: true }));
}

function countdown(el) {
  const due = Date.parse(el.dataset.due);
  if (Number.isNaN(due)) return;
  const minutes = Math.round((due - Date.now()) / 60000);
  const span = (m) => (m >= 120 ? `${Math.floor(m / 60)}h ${m % 60}m` : `${m}m`);
  el.textContent = minutes >= 0 ? `due in ${span(minutes)}` : `overdue by ${span(-minutes)}`;
  el.classList.toggle("late", minutes < 0);
}

function tick() {
  document.querySelectorAll("[data-due]").forEach(countdown);
}

async function refreshQueue() {
  const body = document.getElementById("queue-body");
  if (!body) return;
  try {
    const response = await fetch(window.location.href, { credentials: "same-origin" });
    if (!response.ok) return;
    const html = await response.text();
    const page = new DOMParser().parseFromString(html, "text/html");
    const fresh = page.getElementById("queue-body");
    if (fresh) {
      body.innerHTML = fresh.innerHTML;
      tick();
    }
    const count = document.getElementById("queue-count");
    const freshCount = page.getElementById("queue-count");
    if (count && freshCount) count.textContent = freshCount.textContent;
  } catch (_) {
    // offline for a moment: the next poll tries again
  }
}

// Drafts: what a person types into a form marked data-draft is kept in this browser until the
// form is sent and accepted, so an expired session (the sign-in page comes in between) or a
// closed tab does not lose a reply or an article. Kept per person and page, for a week at most,
// and forgotten on signing out.
const DRAFT_PREFIX = "kindly-draft:";
const DRAFT_DAYS = 7;
const PENDING = "kindly-draft-pending";

function fields(form) {
  return Array.from(form.elements).filter(
    (el) => el.name && el.type !== "hidden" && el.type !== "submit" && el.type !== "button",
  );
}

function valuesOf(form) {
  const values = {};
  for (const el of fields(form)) values[el.name] = el.type === "checkbox" ? el.checked : el.value;
  return values;
}

function fill(form, values) {
  for (const el of fields(form)) {
    if (!(el.name in values)) continue;
    if (el.type === "checkbox") el.checked = Boolean(values[el.name]);
    else el.value = values[el.name];
  }
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function readDraft(key) {
  try {
    const draft = JSON.parse(localStorage.getItem(DRAFT_PREFIX + key));
    if (draft && Date.now() - draft.savedAt < DRAFT_DAYS * 86400000) return draft;
  } catch (_) {
    // unreadable: treated as no draft
  }
  localStorage.removeItem(DRAFT_PREFIX + key);
  return null;
}

function forgetDrafts() {
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith(DRAFT_PREFIX)) localStorage.removeItem(key);
  }
}

// The form last sent from this tab: accepted unless the next page shows an error or is the same
// form again (the person came back to it; a form the server marks data-draft-accepted, such as
// an article just saved, settles in restoreDraft). Returns its key. The sign-in page loads no
// script, so a form sent as the session ended is still pending on the page after signing in.
function settlePending(keysHere) {
  const pending = sessionStorage.getItem(PENDING);
  if (!pending) return null;
  sessionStorage.removeItem(PENDING);
  if (!document.querySelector(".error") && !keysHere.includes(pending)) {
    localStorage.removeItem(DRAFT_PREFIX + pending);
  }
  return pending;
}

function restoreDraft(form, justSent) {
  const key = form.dataset.draft;
  const original = valuesOf(form);
  const draft = readDraft(key);
  // A refused form comes back holding what was sent: keep the draft until it is accepted.
  const refused = Boolean(document.querySelector(".error"));
  if (justSent === key && form.hasAttribute("data-draft-accepted")) {
    localStorage.removeItem(DRAFT_PREFIX + key);
  } else if (refused) {
    // nothing to restore
  } else if (draft && same(draft.values, original)) {
    localStorage.removeItem(DRAFT_PREFIX + key);
  } else if (draft) {
    fill(form, draft.values);
    const notice = document.createElement("p");
    notice.className = "notice";
    notice.id = "draft-restored";
    notice.setAttribute("role", "status");
    const at = new Date(draft.savedAt).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    notice.textContent = `Restored what you typed here (${at}); it was not sent. `;
    const discard = document.createElement("button");
    discard.type = "button";
    discard.id = "discard-draft";
    discard.textContent = "Discard it";
    discard.addEventListener("click", () => {
      fill(form, original);
      localStorage.removeItem(DRAFT_PREFIX + key);
      notice.remove();
    });
    notice.append(discard);
    form.before(notice);
  }
  const save = () => {
    const values = valuesOf(form);
    try {
      if (same(values, original) && !refused) localStorage.removeItem(DRAFT_PREFIX + key);
      else localStorage.setItem(DRAFT_PREFIX + key, JSON.stringify({ savedAt: Date.now(), values }));
    } catch (_) {
      // storage full or switched off: the form still works, without a draft
    }
  };
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  form.addEventListener("submit", () => {
    save();
    sessionStorage.setItem(PENDING, key);
  });
}

function setUpDrafts() {
  let forms;
  let justSent;
  try {
    forms = Array.from(document.querySelectorAll("form[data-draft]"));
    justSent = settlePending(forms.map((f) => f.dataset.draft));
  } catch (_) {
    return; // storage switched off: forms work as plain forms
  }
  forms.forEach((form) => restoreDraft(form, justSent));
  const signOut = document.querySelector('form[action="/sign-out"]');
  if (signOut) signOut.addEventListener("submit", forgetDrafts);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-insert]");
  if (button) insertIntoReply(button.dataset.insert);
});

document.addEventListener("DOMContentLoaded", () => {
  tick();
  setInterval(tick, 30000);
  setUpDrafts();
  const table = document.querySelector("[data-poll]");
  if (table) setInterval(refreshQueue, Number(table.dataset.poll) * 1000);
});
