// Optional enhancement only: every page works without this file.
// Disables a form's submit buttons after the first click to avoid double submissions
// (the server's idempotency key is the real guard).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.submitted === "1") { event.preventDefault(); return; }
  form.dataset.submitted = "1";
  form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
});
