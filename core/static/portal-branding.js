// The branding page's live preview: the colours and their contrast, and the texts of the language being
// edited, follow what the admin types or picks. Without JavaScript the preview shows what is saved, the colours
// are typed, and the server checks their contrast on saving, as it always does.
(function () {
  "use strict";
  var preview = document.querySelector("[data-brand-preview]");
  if (!preview) return;
  var form = preview.closest("form");
  var primary = form.querySelector("#primary_color");
  var accent = form.querySelector("#accent_color");
  var colors = form.querySelector(".brand-colors");
  // The server's thresholds (core/colors.py and the branding services), given by the page.
  var aa = parseFloat(colors.dataset.aa), minimum = parseFloat(colors.dataset.minimum);
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
    var line = colors.querySelector("[data-contrast='" + name + "']");
    var level = value >= aa ? "ok" : value >= minimum ? "warn" : "fail";
    var ratioText = numbers.format(Math.floor(value * 10) / 10) + ":1";
    var result = colors.dataset[level === "ok" ? "pass" : level];
    // Only a real change is written, so that screen readers announce the line (aria-live) when it changes.
    if (line.querySelector("[data-ratio]").textContent === ratioText &&
        line.querySelector("[data-result]").textContent === result) return;
    line.classList.remove("contrast-ok", "contrast-warn", "contrast-fail");
    line.classList.add("contrast-" + level);
    line.querySelector("[data-ratio]").textContent = ratioText;
    line.querySelector("[data-result]").textContent = result;
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

  // Each colour's picker and its text field say the same colour: a pick is written in the field, a well-formed
  // typed colour moves the picker.
  form.querySelectorAll("[data-picker-for]").forEach(function (picker) {
    var field = form.querySelector("#" + picker.dataset.pickerFor);
    picker.hidden = false;
    picker.addEventListener("input", function () {
      field.value = picker.value;
      updateColors();
    });
    field.addEventListener("input", function () {
      if (pattern.test(field.value.trim())) picker.value = field.value.trim().toLowerCase();
    });
  });

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
