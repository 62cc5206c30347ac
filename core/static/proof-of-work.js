// Attack mode's check on the sign-up form, loaded after the ALTCHA widget (vendor/altcha.min.js, its build that
// needs no inline style or script): gives the widget its worker (a file of this site, so the CSP needs no blob:)
// and the page's own texts, and tells screen readers how the check goes.
const widget = document.querySelector("altcha-widget");
if (widget) {
  const texts = JSON.parse(widget.dataset.texts);
  const status = document.getElementById("proof-of-work-status");
  globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", () => new Worker(widget.dataset.worker));
  globalThis.$altcha.i18n.set(widget.getAttribute("language"), texts);
  widget.addEventListener("statechange", (event) => {
    status.textContent = texts[event.detail.state] || "";
  });
  // An expired check is done again when the person commits, rather than left as an error.
  widget.addEventListener("expired", () => widget.reset());
}
