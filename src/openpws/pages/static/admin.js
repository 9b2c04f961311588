// openpws admin pages: the little a page does with JavaScript. Every page reads without it.
"use strict";

// Copy buttons beside codes and Uids (hidden until this script shows them).
function setUpCopies(root) {
  for (const button of root.querySelectorAll("button.copy[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(button.dataset.copy);
        button.textContent = "copied";
      } catch (error) {
        button.textContent = "select it";
      }
      setTimeout(() => { button.textContent = "copy"; }, 1500);
    });
  }
}

// Forms that ask before they act (delete, reset, restore).
function setUpConfirms(root) {
  for (const form of root.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

// The live request view: asks for the newest rows every second and adds those not shown yet.
function follow(state) {
  const body = document.querySelector("#requests tbody");
  const shown = new Set([...body.querySelectorAll("tr[data-id]")].map((row) => row.dataset.id));
  const feed = state.dataset.feed;
  async function poll() {
    try {
      const answer = await fetch(feed, { credentials: "same-origin", headers: { "Accept": "text/html" } });
      if (!answer.ok) throw new Error("HTTP " + answer.status);
      const template = document.createElement("template");
      template.innerHTML = "<table><tbody>" + await answer.text() + "</tbody></table>";
      const fresh = [...template.content.querySelectorAll("tr[data-id]")].filter((row) => !shown.has(row.dataset.id));
      for (const row of fresh.reverse()) {
        shown.add(row.dataset.id);
        row.classList.add("new");
        body.prepend(row);
      }
      state.textContent = "Following (checked " + new Date().toLocaleTimeString() + ").";
    } catch (error) {
      state.textContent = "Not following: " + error.message + ". Retrying.";
    }
    setTimeout(poll, 1000);
  }
  poll();
}

document.addEventListener("DOMContentLoaded", () => {
  setUpCopies(document);
  setUpConfirms(document);
  const state = document.getElementById("live-state");
  if (state) follow(state);
});
