// Checkout with Stripe's Payment Element: the card form is Stripe's own
// (the card number never touches Boxoffice); after paying, Stripe sends the
// fan back to the booking page, which asks Stripe how the payment stands.
(function () {
  "use strict";
  var form = document.getElementById("stripe-form");
  if (!form || typeof Stripe === "undefined") return;
  var stripe = Stripe(form.getAttribute("data-key"));
  // Stripe's card form and its messages speak the page's language.
  var elements = stripe.elements({ clientSecret: form.getAttribute("data-secret"), locale: document.documentElement.lang || "auto" });
  var element = elements.create("payment");
  var button = document.getElementById("stripe-pay");
  var message = document.getElementById("stripe-message");
  element.mount("#payment-element");
  element.on("ready", function () { button.disabled = false; });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    button.disabled = true;
    message.hidden = true;
    stripe.confirmPayment({ elements: elements, confirmParams: { return_url: form.getAttribute("data-return") } })
      .then(function (result) {
        // Only reached when the payment could not be made; success redirects.
        message.textContent = (result.error && result.error.message) || msg("checkout.js.payment_failed");
        message.hidden = false;
        button.disabled = false;
      });
  });
})();
