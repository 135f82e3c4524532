// Small behaviours the server cannot do: select rows, close menus, report failed htmx requests.
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target.matches("[data-select-page]")) {
    document.querySelectorAll('input[name="ids"]').forEach((box) => { box.checked = target.checked; });
  }
  if (target.matches('[data-select-page], input[name="ids"]')) {
    const selected = document.querySelectorAll('input[name="ids"]:checked').length;
    document.querySelectorAll("[data-selected-count]").forEach((el) => { el.textContent = selected; });
  }
});

// One open row menu at a time; a click elsewhere closes it, and so does Escape, which gives the focus
// back to the menu's button (a <details> has no Escape of its own).
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  document.querySelectorAll("details.menu[open]").forEach((menu) => {
    menu.querySelectorAll("details[open]").forEach((inner) => inner.removeAttribute("open"));
    menu.removeAttribute("open");
    if (menu.contains(document.activeElement) || document.activeElement === document.body) menu.querySelector("summary").focus();
  });
});

// A 4xx answer is a form with its errors, or a refusal the console explains: htmx handles it as the
// htmx-config meta tag says, in every mode. Under DEBUG, django-htmx's debug script would put a 400,
// 403 or 404 answer in place of the whole page (only a 500 is worth its debug page): this listener, on
// <html>, hears the event before the script's on document and keeps it from there.
document.documentElement.addEventListener("htmx:beforeOnLoad", (event) => {
  const status = event.detail.xhr.status;
  if (status >= 400 && status < 500) event.stopPropagation();
});

document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  const box = document.getElementById("messages");
  if (!box) return;
  const text = {
    403: "You are not allowed to do that in this product. Ask a product admin.",
    404: "That SIM or product is not there any more (or not yours). Reload the page.",
    405: "That action cannot be done this way.",
  }[status] || `Something went wrong on the server (${status}); nothing was changed. Try again, or reload the page.`;
  const div = document.createElement("div");
  div.className = "message message-error";
  div.setAttribute("role", "alert");
  div.textContent = text;
  box.replaceChildren(div);
});

document.addEventListener("htmx:sendError", () => {
  const box = document.getElementById("messages");
  if (!box) return;
  const div = document.createElement("div");
  div.className = "message message-error";
  div.setAttribute("role", "alert");
  div.textContent = "The console could not be reached; nothing was changed. Check your connection and try again.";
  box.replaceChildren(div);
});

// A print button (the invoice page): the print stylesheet leaves out the console around the document.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});

// A Copy button (a new API token's secret): data-copy names the field it copies.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  const status = document.querySelector(`[data-copy-status="${button.dataset.copy}"]`);
  field.select();
  let copied = false;
  try {
    await navigator.clipboard.writeText(field.value);
    copied = true;
  } catch {
    copied = document.execCommand("copy");  // where the clipboard API is refused (plain http on another host)
  }
  button.textContent = copied ? "Copied" : "Copy";
  if (status) status.textContent = copied ? "Copied to the clipboard." : "Copying was refused by the browser: the text is selected, press Ctrl+C (⌘C).";
});

// The top bar's menu on a phone (the stylesheet shows the button and hides the links below 640 px).
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-menu-toggle]");
  if (toggle) setTopMenu(toggle, toggle.getAttribute("aria-expanded") !== "true");
});

function setTopMenu(toggle, open) {
  toggle.setAttribute("aria-expanded", String(open));
  toggle.closest(".topbar").classList.toggle("menu-open", open);
}

// Escape closes the top bar's menu too (row menus: above), focus back on its button.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const toggle = document.querySelector('[data-menu-toggle][aria-expanded="true"]');
  if (toggle) {
    setTopMenu(toggle, false);
    toggle.focus();
  }
});

// A table or code block that scrolls sideways in its card (on a phone) takes the keyboard's focus,
// so that the arrow keys can scroll it; one that fits does not.
function markScrollers() {
  document.querySelectorAll(".table, pre").forEach((box) => {
    if (box.scrollWidth > box.clientWidth + 1) box.setAttribute("tabindex", "0");
    else if (box.getAttribute("tabindex") === "0") box.removeAttribute("tabindex");
  });
}
window.addEventListener("load", markScrollers);
window.addEventListener("resize", () => requestAnimationFrame(markScrollers));
document.addEventListener("htmx:afterSettle", markScrollers);
