// The rule form (templates/rules/rule_form.html): show only the chosen condition's inputs, a ticked action's
// inputs, the scope's value unless every SIM, and the hours with "once every … hours". Without this script
// every input shows and the server reads only the chosen ones.
function showChosen(form) {
  const condition = form.querySelector('[name="condition_kind"]').value;
  form.querySelectorAll("[data-condition-kind]").forEach((box) => { box.hidden = box.dataset.conditionKind !== condition; });
  form.querySelectorAll("[data-action-kind]").forEach((row) => {
    const params = row.querySelector("[data-action-params]");
    if (params) params.hidden = !row.querySelector(`[name="action-${row.dataset.actionKind}"]`).checked;
  });
  form.querySelector("[data-scope-value]").hidden = form.querySelector('[name="scope_kind"]').value === "all";
  form.querySelector("[data-window-hours]").hidden = form.querySelector('[name="window_kind"]').value !== "hours";
}

function setUp() {
  const forms = document.querySelectorAll("[data-rule-form]:not(.js)");
  forms.forEach((form) => {
    form.classList.add("js");
    showChosen(form);
    form.addEventListener("change", () => showChosen(form));
  });
  return forms.length > 0;
}

setUp();
// "See what it would have done" puts the form back (htmx) with the preview in it: set it up again, go to the preview.
document.addEventListener("htmx:afterSettle", () => {
  if (!setUp()) return;
  const heading = document.getElementById("rule-preview-heading");
  if (heading) heading.focus();
});
