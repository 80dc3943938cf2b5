// Card payment at checkout. Works with Stripe.js and with the local Stripe server's stand-in:
// confirmCardSetup saves the card, the server charges it, and if the bank asks for
// 3-D Secure, confirmCardPayment runs it and the server checks the result again.
(function () {
  var form = document.getElementById("payment-form");
  if (!form) { return; }
  var errorBox = document.getElementById("card-error");
  var button = document.getElementById("pay-button");
  var stripe = Stripe(form.dataset.stripeKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    button.disabled = false;
    button.textContent = button.dataset.label;
  }
  button.dataset.label = button.textContent;

  function busy(text) {
    errorBox.hidden = true;
    button.disabled = true;
    button.textContent = text;
  }

  if (form.dataset.actionSecret) {
    busy("Waiting for your bank…");
    stripe.confirmCardPayment(form.dataset.actionSecret).then(function () {
      form.action = form.dataset.authenticatedUrl;
      form.submit();
    });
    return;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (button.disabled) { return; }
    busy("Processing…");
    stripe.confirmCardSetup(form.dataset.clientSecret, { payment_method: { card: card } }).then(function (result) {
      if (result.error && result.error.code === "setup_intent_unexpected_state") {
        // This card form was used already (a page kept from before a payment): draw a new one.
        var fresh = new URL(window.location.href);
        fresh.searchParams.set("fresh", Date.now());
        window.location.replace(fresh.toString());
        return;
      }
      if (result.error) {
        showError(result.error.message || "Your card could not be used. Please check the details.");
        return;
      }
      form.elements.payment_method.value = result.setupIntent.payment_method;
      form.submit();
    });
  });

  var hold = document.querySelector("[data-expires]");
  if (hold) {
    var expires = new Date(hold.dataset.expires);
    var out = hold.querySelector("[data-countdown]");
    var tick = function () {
      var left = Math.max(0, Math.round((expires - new Date()) / 1000));
      out.textContent = " (" + Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") + " left)";
      if (left === 0) { out.textContent = " (time is up — you may need to pick the time again)"; return; }
      setTimeout(tick, 1000);
    };
    tick();
  }
})();
