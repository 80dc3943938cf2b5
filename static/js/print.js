// A "Print" button (data-print): shown only when JavaScript can press it for the visitor.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
