// Progressive enhancement only: every page works without this file.
// Filter forms marked data-auto-submit apply a facet as soon as a checkbox or the sort order changes.
document.addEventListener("change", (event) => {
  const control = event.target;
  const form = control.closest("form[data-auto-submit]");
  if (!form || control.type === "search" || control.type === "number") return;
  form.requestSubmit();
});

// On a phone the filter panel starts folded so the results come first; it stays open without JS.
if (window.matchMedia("(max-width: 760px)").matches) {
  for (const details of document.querySelectorAll("details[data-collapse-narrow]")) details.open = false;
}
