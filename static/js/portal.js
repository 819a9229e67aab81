// Progressive enhancement only: every page works without this file.
// Filter forms marked data-auto-submit apply a facet as soon as a checkbox or the sort order changes.
document.addEventListener("change", (event) => {
  const control = event.target;
  const form = control.closest("form[data-auto-submit]");
  if (!form || control.type === "search" || control.type === "number") return;
  form.requestSubmit();
});
