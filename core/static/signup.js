// The sign-up form's place field: city suggestions as you type (an ARIA combobox), and an optional
// "use my location" that finds the nearest city in the browser itself: coordinates never leave it.
(function () {
  "use strict";
  var form = document.querySelector("form[data-places-src]");
  if (!form) return;
  var country = form.querySelector("#country");
  var city = form.querySelector("#city");
  var place = form.querySelector("#place");
  var list = document.getElementById("city-suggestions");
  var status = document.getElementById("city-status");
  var source = form.dataset.placesSrc;
  var options = [];
  var active = -1;
  var timer = null;

  city.setAttribute("role", "combobox");
  city.setAttribute("aria-autocomplete", "list");
  city.setAttribute("aria-expanded", "false");
  city.setAttribute("aria-controls", list.id);

  function url(query) {
    return source + "?country=" + encodeURIComponent(country.value) + (query ? "&q=" + encodeURIComponent(query) : "");
  }

  function close() {
    list.hidden = true;
    list.textContent = "";
    city.setAttribute("aria-expanded", "false");
    city.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function choose(option) {
    city.value = option.name;
    place.value = option.id;
    status.textContent = option.name;
    close();
  }

  function show(found) {
    options = found;
    list.textContent = "";
    found.forEach(function (option, index) {
      var item = document.createElement("li");
      item.id = "city-option-" + index;
      item.setAttribute("role", "option");
      item.textContent = option.name;
      item.addEventListener("mousedown", function (event) { event.preventDefault(); choose(option); });
      list.appendChild(item);
    });
    list.hidden = found.length === 0;
    city.setAttribute("aria-expanded", found.length ? "true" : "false");
    status.textContent = found.length ? form.dataset.suggestionsLabel.replace("{count}", found.length) : "";
  }

  function highlight(index) {
    var items = list.querySelectorAll("[role=option]");
    if (!items.length) return;
    active = (index + items.length) % items.length;
    items.forEach(function (item, i) { item.setAttribute("aria-selected", i === active ? "true" : "false"); });
    city.setAttribute("aria-activedescendant", items[active].id);
  }

  city.addEventListener("input", function () {
    place.value = "";
    clearTimeout(timer);
    var query = city.value.trim();
    if (!country.value || !query) return close();
    timer = setTimeout(function () {
      fetch(url(query), { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) { show(data.places); })
        .catch(close);
    }, 150);
  });
  city.addEventListener("keydown", function (event) {
    if (list.hidden) return;
    if (event.key === "ArrowDown") { highlight(active + 1); event.preventDefault(); }
    else if (event.key === "ArrowUp") { highlight(active - 1); event.preventDefault(); }
    else if (event.key === "Enter" && active >= 0) { choose(options[active]); event.preventDefault(); }
    else if (event.key === "Escape") { close(); }
  });
  city.addEventListener("blur", function () { setTimeout(close, 100); });
  country.addEventListener("change", function () { place.value = ""; close(); });

  var locate = document.getElementById("use-my-location");
  if (!locate || !("geolocation" in navigator)) return;
  locate.hidden = false;
  locate.addEventListener("click", function () {
    if (!country.value) { status.textContent = form.dataset.chooseCountryFirst; country.focus(); return; }
    status.textContent = form.dataset.locatingLabel;
    navigator.geolocation.getCurrentPosition(function (position) {
      fetch(url(""), { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          var here = position.coords, best = null, bestDistance = Infinity;
          data.places.forEach(function (option) {
            var distance = haversine(here.latitude, here.longitude, option.latitude, option.longitude);
            if (distance < bestDistance) { best = option; bestDistance = distance; }
          });
          if (best) choose(best); else status.textContent = form.dataset.noCityLabel;
        });
    }, function () { status.textContent = form.dataset.noLocationLabel; }, { maximumAge: 600000, timeout: 15000 });
  });

  function haversine(lat1, lon1, lat2, lon2) {
    var rad = Math.PI / 180, dLat = (lat2 - lat1) * rad, dLon = (lon2 - lon1) * rad;
    var a = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * 6371 * Math.asin(Math.sqrt(a));
  }
})();

// The age question, where the organisation asks it: the age asked follows the country chosen (an answer that
// no longer decides the new question is cleared), and under it the email and name fields are set aside,
// disabled so that nothing typed in them is even sent.
(function () {
  "use strict";
  var question = document.querySelector("[data-age-question]");
  if (!question) return;
  var data = JSON.parse(question.dataset.ageQuestion);
  var form = question.closest("form");
  var country = form.querySelector("#country");
  var asked = form.querySelector("#asked_age");
  var legend = question.querySelector("legend");
  var status = question.querySelector("[role=status]");
  var person = form.querySelector("[data-person-fields]");
  var answers = question.querySelectorAll("input[type=radio]");

  function answer() {
    var checked = question.querySelector("input[type=radio]:checked");
    return checked ? checked.value : "";
  }

  function setAside() {
    var under = answer() === "no";
    person.hidden = under;
    person.querySelectorAll("input").forEach(function (input) { input.disabled = under; });
  }

  country.addEventListener("change", function () {
    var before = Number(asked.value), age = data.ages[country.value] || data["default"];
    if (age === before) return;
    var given = answer();
    if ((given === "yes" && age > before) || (given === "no" && age < before)) {
      answers.forEach(function (radio) { radio.checked = false; });
    }
    asked.value = age;
    legend.textContent = status.textContent = data.questions[String(age)];
    setAside();
  });
  answers.forEach(function (radio) { radio.addEventListener("change", setAside); });
  setAside();
})();

// "In your own words" appears once "I describe myself as…" is chosen (and stays while it holds words);
// without this script it is always there.
(function () {
  "use strict";
  var words = document.querySelector("[data-shown-for-gender]");
  if (!words) return;
  var radios = document.querySelectorAll("input[type=radio][name=gender]");
  var input = words.querySelector("input");
  function update() {
    var chosen = document.querySelector("input[type=radio][name=gender]:checked");
    words.hidden = !(chosen && chosen.value === words.dataset.shownForGender) && !input.value;
  }
  radios.forEach(function (radio) { radio.addEventListener("change", update); });
  update();
})();
