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

// One open row menu at a time; a click elsewhere closes it.
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
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

// The top bar's menu on a phone (the stylesheet shows the button and hides the links below 640 px).
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-menu-toggle]");
  if (toggle) setTopMenu(toggle, toggle.getAttribute("aria-expanded") !== "true");
});

function setTopMenu(toggle, open) {
  toggle.setAttribute("aria-expanded", String(open));
  toggle.closest(".topbar").classList.toggle("menu-open", open);
}

// Escape closes what is open: a row menu (focus back on its button) or the top bar's menu.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const menu = event.target.closest ? event.target.closest("details.menu[open]") : null;
  const openMenus = menu ? [menu] : document.querySelectorAll("details.menu[open]");
  openMenus.forEach((open) => {
    open.removeAttribute("open");
    open.querySelector("summary").focus();
  });
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
