// HeForShe live counter: include this script where the counter should appear.
(function () {
  "use strict";
  var script = document.currentScript;
  var frame = document.createElement("iframe");
  var language = script.getAttribute("data-lang");
  frame.src = {{ url_for('core.embed_counter', _external=True)|tojson }} + (language ? "?lang=" + encodeURIComponent(language) : "");
  frame.title = {{ _("Live HeForShe counter")|tojson }};
  frame.loading = "lazy";
  frame.style.border = "0";
  frame.style.width = "100%";
  frame.style.maxWidth = "420px";
  frame.style.height = "190px";
  script.parentNode.insertBefore(frame, script);
})();
