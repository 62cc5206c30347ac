// The application form's subdomain: says, as one types, whether the address is free, taken or not valid (the
// server says which, in the page's language; it checks again when the form is sent). Without JavaScript the
// form still works: the answer then comes with the form's other checks.
(function () {
  "use strict";
  var input = document.querySelector("[data-check-url]");
  var status = document.getElementById("subdomain-status");
  if (!input || !status) return;
  var timer = null;
  var asked = 0;

  function check() {
    var name = input.value.trim().toLowerCase();
    if (!name) {
      status.textContent = "";
      return;
    }
    var mine = ++asked;
    fetch(input.getAttribute("data-check-url") + "?name=" + encodeURIComponent(name), {
      headers: {"Accept": "application/json"}, credentials: "same-origin"
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (mine !== asked || !answer) return;  // an older answer, or too many checks: say nothing
      status.textContent = answer.message;
      status.setAttribute("data-state", answer.state);
    }).catch(function () { /* offline: the form's own check answers on sending */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
  if (input.value) check();
})();
