// A "copy the link" button beside a read-only address (which stays selectable without a script): copies the
// address and says so in the live region beside it.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copy);
    var status = button.parentNode.querySelector("[aria-live]");
    if (!field || !status) return;
    button.hidden = false;

    function copied() {
      status.textContent = "";
      setTimeout(function () { status.textContent = button.dataset.copied; }, 50);  // said again on a 2nd press
    }

    function bySelection() {  // outside a secure context (plain http) there is no clipboard API
      field.select();
      if (document.execCommand && document.execCommand("copy")) copied();
    }

    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(copied, bySelection);
      } else {
        bySelection();
      }
    });
  });
})();
