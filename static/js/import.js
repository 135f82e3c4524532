// The import page: keep the queue's count, remove items, take dropped files, filter countries.
(() => {
  const queue = document.getElementById("queue");

  function refreshQueue() {
    if (!queue) return;
    const typed = queue.querySelectorAll('input[name="iccid"]').length;
    const fileJob = document.querySelector("[data-file-job]");
    const total = typed + (fileJob ? Number(fileJob.dataset.valid) : 0);
    document.querySelectorAll("[data-queue-count]").forEach((el) => { el.textContent = total.toLocaleString(); });
    document.querySelectorAll("[data-continue]").forEach((button) => { button.disabled = total === 0; });
    const empty = document.querySelector(".queue-empty");
    if (empty) empty.hidden = queue.children.length > 0;
  }

  // The review's choice of carrier account for unrouted ICCIDs: the page is asked again with it.
  document.addEventListener("change", (event) => {
    const form = event.target.closest && event.target.closest("form[data-submit-on-change]");
    if (form) form.requestSubmit();
  });

  document.addEventListener("htmx:afterSettle", refreshQueue);
  document.addEventListener("queue-changed", refreshQueue);
  document.addEventListener("DOMContentLoaded", refreshQueue);

  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (event.detail.successful && form.matches && form.matches("form[data-reset-after]")) {
      form.reset();
      const field = form.querySelector("input, textarea");
      if (field) field.focus();
    }
  });

  document.addEventListener("click", (event) => {
    const remove = event.target.closest("[data-remove-item]");
    if (remove) {
      remove.closest("li").remove();
      refreshQueue();
    }
  });

  // Dropping a file on the zone puts it in the file input, whose change uploads it (htmx).
  document.querySelectorAll("[data-dropzone]").forEach((zone) => {
    const input = document.getElementById(zone.getAttribute("for"));
    ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    }));
    ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("dragging")));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      if (!event.dataTransfer.files.length) return;
      input.files = event.dataTransfer.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  });

  // A search box over a long <select> of countries.
  document.querySelectorAll("[data-filter-select]").forEach((search) => {
    const select = document.querySelector(search.dataset.filterSelect);
    search.addEventListener("input", () => {
      const wanted = search.value.trim().toLowerCase();
      let first = null;
      for (const option of select.options) {
        const match = option.text.toLowerCase().includes(wanted) || option.value.toLowerCase() === wanted;
        option.hidden = !match;
        if (match && !first) first = option;
      }
      if (first && wanted) {
        select.value = first.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  });
})();
