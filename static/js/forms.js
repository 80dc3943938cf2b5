// A second click on a submit button would send the form twice: let only the first through.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.id === "payment-form" || event.defaultPrevented) { return; }
  if (form.dataset.submitted) { event.preventDefault(); return; }
  form.dataset.submitted = "true";
});
