// Keeps [data-live] numbers (and the map, when there is one) current from the server's event stream.
// If the stream cannot be had (no EventSource, or the broker is down), it polls count.json instead,
// and tries the stream again now and then.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-src]");
  if (!root) return;
  var format = new Intl.NumberFormat(document.documentElement.lang);
  var pollTimer = null;
  var retryTimer = null;

  function apply(snapshot) {
    document.querySelectorAll("[data-live]").forEach(function (element) {
      var value = snapshot[element.dataset.live];
      if (typeof value === "number") element.textContent = format.format(value);
    });
    if (snapshot.countries && window.HFSMap) {
      document.querySelectorAll("figure.map").forEach(function (figure) {
        if (figure.dataset.liveCountries !== "off") window.HFSMap.updateCountries(figure, snapshot.countries);
      });
    }
    document.dispatchEvent(new CustomEvent("hfs:totals", { detail: snapshot }));
  }

  function poll() {
    if (pollTimer) return;
    pollTimer = setInterval(function () {
      fetch(root.dataset.countSrc, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (snapshot) { if (snapshot) apply(snapshot); })
        .catch(function () {});
    }, 5000);
    retryTimer = setTimeout(connect, 30000);
  }

  function connect() {
    if (!("EventSource" in window)) return poll();
    var source = new EventSource(root.dataset.liveSrc);
    source.addEventListener("totals", function (event) { apply(JSON.parse(event.data)); });
    source.addEventListener("open", function () {
      clearInterval(pollTimer); clearTimeout(retryTimer); pollTimer = null;
    });
    source.addEventListener("error", function () {
      // A closed stream is not retried by the browser (for example a 503 while the broker is down).
      if (source.readyState === EventSource.CLOSED) poll();
    });
  }

  connect();
})();
