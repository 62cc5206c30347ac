// A "copy the link" button beside a read-only address (which stays selectable without a script): copies the
// address and says so in the page's live region.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copy);
    var status = button.parentNode.querySelector("[role=status]");
    if (!field || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        status.textContent = "";
        setTimeout(function () { status.textContent = button.dataset.copied; }, 50);
      }, function () {
        field.select();
      });
    });
  });
})();
