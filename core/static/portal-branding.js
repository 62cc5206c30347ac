// The branding page's live preview: the colours and their contrast, and the texts of the language being
// edited, follow what the admin types. Without JavaScript the preview shows what is saved.
(function () {
  "use strict";
  var preview = document.querySelector("[data-brand-preview]");
  if (!preview) return;
  var form = preview.closest("form");
  var primary = form.querySelector("#primary_color");
  var accent = form.querySelector("#accent_color");
  var table = form.querySelector(".contrast-table");
  var texts = preview.querySelector("[data-preview-texts]");
  var note = preview.querySelector("[data-preview-note]");
  var pattern = /^#[0-9a-fA-F]{6}$/;
  var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined,
                                      {minimumFractionDigits: 1, maximumFractionDigits: 1});

  if (note) note.hidden = true;

  // WCAG 2.1 relative luminance and contrast ratio, as the server computes them.
  function luminance(color) {
    var channels = [1, 3, 5].map(function (i) {
      var value = parseInt(color.slice(i, i + 2), 16) / 255;
      return value <= 0.03928 ? value / 12.92 : Math.pow((value + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
  }

  function ratio(one, two) {
    var a = luminance(one), b = luminance(two);
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  }

  function showContrast(name, value) {
    var row = table.querySelector("[data-contrast='" + name + "']");
    var level = value >= 4.5 ? "ok" : value >= 3 ? "warn" : "fail";
    row.className = "contrast-" + level;
    row.querySelector("[data-ratio]").textContent = numbers.format(Math.floor(value * 10) / 10) + ":1";
    row.querySelector("[data-result]").textContent =
      table.dataset[level === "ok" ? "pass" : level];
  }

  function updateColors() {
    if (pattern.test(primary.value.trim())) {
      var p = primary.value.trim().toLowerCase();
      preview.querySelector("[data-preview-primary]").setAttribute("fill", p);
      showContrast("header", ratio("#ffffff", p));
    }
    if (pattern.test(accent.value.trim())) {
      var a = accent.value.trim().toLowerCase();
      preview.querySelector("[data-preview-accent]").setAttribute("fill", a);
      showContrast("link", ratio(a, "#ffffff"));
    }
  }

  function showLanguage(fieldset) {
    texts.lang = fieldset.dataset.language;
    texts.dir = fieldset.dataset.dir;
    fieldset.querySelectorAll("[data-preview]").forEach(function (field) {
      var target = texts.querySelector("[data-preview-field='" + field.dataset.preview + "']");
      target.textContent = field.value.trim() || field.dataset.default;
    });
  }

  primary.addEventListener("input", updateColors);
  accent.addEventListener("input", updateColors);
  form.querySelectorAll(".language-texts").forEach(function (fieldset) {
    fieldset.addEventListener("input", function () { showLanguage(fieldset); });
    fieldset.addEventListener("focusin", function () { showLanguage(fieldset); });
  });
  updateColors();
  var shown = form.querySelector(".language-texts[data-language='" + texts.lang + "']");
  if (shown) showLanguage(shown);
})();
