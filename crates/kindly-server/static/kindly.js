// Kindly's console: one-click inserts into the reply, SLA countdowns, and queue polling.
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

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-insert]");
  if (button) insertIntoReply(button.dataset.insert);
});

document.addEventListener("DOMContentLoaded", () => {
  tick();
  setInterval(tick, 30000);
  const table = document.querySelector("[data-poll]");
  if (table) setInterval(refreshQueue, Number(table.dataset.poll) * 1000);
});
