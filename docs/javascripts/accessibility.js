// Material's search dialog has role="dialog" but no accessible name (Lighthouse's
// aria-dialog-name audit); give it one without copying Material's search partial.
document.querySelectorAll('[data-md-component="search"][role="dialog"]').forEach(function (el) {
  if (!el.hasAttribute("aria-label")) {
    el.setAttribute("aria-label", "Search the site");
  }
});
