// The commitment map: a world choropleth drawn in the browser into <figure class="map"> > svg.map-canvas,
// with the vendored d3-geo (global `d3`) and topojson-client (`topojson`): no tiles, no request but same-origin.
// HFSMap.render(figure, data) draws (a promise); HFSMap.update(figure, data) only recolours, cheap enough
// for every second. Every figure.map[data-map-src] on the page is fetched and drawn on load.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var NEUTRAL = "#dcdcdc";           // no data, and the features without an ISO code (Kosovo, N. Cyprus, Somaliland)
  var LEGEND_HEIGHT = 26;            // a strip under the map, so the legend never covers land
  // The words of the figures; the figure's data-text-men etc. override them.
  var TEXT = { men: "men", total: "in all", per_million: "per million men", acted: "did an action" };
  var format = new Intl.NumberFormat(document.documentElement.lang || undefined);
  var states = new WeakMap();        // figure -> what was drawn: {paths, markers, markerGroup, projection, legend}
  var latest = new WeakMap();        // figure -> its newest data (an update may come while the atlas loads)
  var atlases = {};                  // atlas URL -> promise of its GeoJSON features, fetched once a page
  var gradients = 0;

  // ISO 3166-1 alpha-2 -> numeric, as world-atlas keys its features; generated once from pycountry 26.2.16.
  var NUMERIC = {};
  ("AD020 AE784 AF004 AG028 AI660 AL008 AM051 AO024 AQ010 AR032 AS016 AT040 AU036 AW533 AX248 AZ031 " +
    "BA070 BB052 BD050 BE056 BF854 BG100 BH048 BI108 BJ204 BL652 BM060 BN096 BO068 BQ535 BR076 BS044 " +
    "BT064 BV074 BW072 BY112 BZ084 CA124 CC166 CD180 CF140 CG178 CH756 CI384 CK184 CL152 CM120 CN156 " +
    "CO170 CR188 CU192 CV132 CW531 CX162 CY196 CZ203 DE276 DJ262 DK208 DM212 DO214 DZ012 EC218 EE233 " +
    "EG818 EH732 ER232 ES724 ET231 FI246 FJ242 FK238 FM583 FO234 FR250 GA266 GB826 GD308 GE268 GF254 " +
    "GG831 GH288 GI292 GL304 GM270 GN324 GP312 GQ226 GR300 GS239 GT320 GU316 GW624 GY328 HK344 HM334 " +
    "HN340 HR191 HT332 HU348 ID360 IE372 IL376 IM833 IN356 IO086 IQ368 IR364 IS352 IT380 JE832 JM388 " +
    "JO400 JP392 KE404 KG417 KH116 KI296 KM174 KN659 KP408 KR410 KW414 KY136 KZ398 LA418 LB422 LC662 " +
    "LI438 LK144 LR430 LS426 LT440 LU442 LV428 LY434 MA504 MC492 MD498 ME499 MF663 MG450 MH584 MK807 " +
    "ML466 MM104 MN496 MO446 MP580 MQ474 MR478 MS500 MT470 MU480 MV462 MW454 MX484 MY458 MZ508 NA516 " +
    "NC540 NE562 NF574 NG566 NI558 NL528 NO578 NP524 NR520 NU570 NZ554 OM512 PA591 PE604 PF258 PG598 " +
    "PH608 PK586 PL616 PM666 PN612 PR630 PS275 PT620 PW585 PY600 QA634 RE638 RO642 RS688 RU643 RW646 " +
    "SA682 SB090 SC690 SD729 SE752 SG702 SH654 SI705 SJ744 SK703 SL694 SM674 SN686 SO706 SR740 SS728 " +
    "ST678 SV222 SX534 SY760 SZ748 TC796 TD148 TF260 TG768 TH764 TJ762 TK772 TL626 TM795 TN788 TO776 " +
    "TR792 TT780 TV798 TW158 TZ834 UA804 UG800 UM581 US840 UY858 UZ860 VA336 VC670 VE862 VG092 VI850 " +
    "VN704 VU548 WF876 WS882 YE887 YT175 ZA710 ZM894 ZW716").split(" ").forEach(function (pair) {
    NUMERIC[pair.slice(0, 2)] = pair.slice(2);
  });

  function set(node, attributes) {
    Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    return node;
  }

  function el(name, attributes, parent) {
    var node = set(document.createElementNS(SVG, name), attributes || {});
    if (parent) parent.appendChild(node);
    return node;
  }

  function layer(svg, name, attributes) {
    return el(name, Object.assign({ "data-map-layer": "" }, attributes), svg);  // ours: replaced on a redraw
  }

  function brandColor(property, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(property).trim();
    if (/^#[0-9a-f]{3}$/i.test(value)) value = value.replace(/[0-9a-f]/gi, "$&$&");  // #abc -> #aabbcc
    return /^#[0-9a-f]{6}$/i.test(value) ? value.toLowerCase() : fallback;
  }

  // Mixes two #rrggbb colours: t = 0 gives a, t = 1 gives b.
  function mix(a, b, t) {
    return "#" + [1, 3, 5].map(function (i) {
      var x = parseInt(a.substr(i, 2), 16), y = parseInt(b.substr(i, 2), 16);
      return ("0" + Math.round(x + (y - x) * t).toString(16)).slice(-2);
    }).join("");
  }

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error(url + ": HTTP " + response.status);
      return response.json();
    });
  }

  function loadAtlas(url) {
    atlases[url] = atlases[url] || fetchJSON(url).then(function (world) {
      return topojson.feature(world, world.objects.countries).features;
    }).catch(function (error) { delete atlases[url]; throw error; });  // a failed load is tried again
    return atlases[url];
  }

  // "France: 12,345 men, 20,000 in all, 0.5 per million men", with the numbers that are there.
  function describe(figure, name, counts) {
    var parts = ["men", "total", "per_million", "acted"].filter(function (key) {
      return typeof (counts || {})[key] === "number";
    }).map(function (key) {
      var words = figure.getAttribute("data-text-" + key.replace("_", "-")) || TEXT[key];
      return format.format(counts[key]) + " " + words;
    });
    return parts.length ? name + ": " + parts.join(", ") : name;
  }

  // Draws the geometry and then colours it; resolves once drawn.
  function render(figure, data) {
    latest.set(figure, data);
    return loadAtlas(figure.dataset.atlas).then(function (features) {
      var svg = figure.querySelector("svg.map-canvas") || el("svg", { "class": "map-canvas", role: "img" }, figure);
      if (!svg.hasAttribute("aria-label") && !svg.hasAttribute("aria-labelledby")) {
        svg.setAttribute("aria-label", figure.dataset.label || "");
      }
      // Fitted to the figure's width at 2:1 (the ratio app.css gives the svg): a unit is a CSS pixel, so the
      // legend's text keeps its size on a phone. The viewBox then scales it all if the page is resized.
      var width = Math.round(figure.clientWidth) || 960, height = Math.round(width / 2);
      var sphere = { type: "Sphere" };
      svg.querySelectorAll(":scope > [data-map-layer]").forEach(function (node) { node.remove(); });
      set(svg, { viewBox: "0 0 " + width + " " + height, width: "100%" });
      var projection = d3.geoEqualEarth().fitExtent([[2, 2], [width - 2, height - LEGEND_HEIGHT]], sphere);
      var path = d3.geoPath(projection).digits(1);
      layer(svg, "path", { d: path(sphere), fill: "#f7f9fb", stroke: "#cfd8e0", "aria-hidden": "true" });
      // Rings crossing 180° (Russia, Fiji) are passed as they are: the projection's own clipping cuts them.
      var countries = layer(svg, "g", { "class": "map-countries", stroke: "#fff", "stroke-width": "0.5" });
      var state = { projection: projection, markers: {}, paths: features.map(function (feature) {
        var node = el("path", { d: path(feature) || "", "data-id": feature.id || "" }, countries);
        return { node: node, title: el("title", {}, node), feature: feature };
      }) };
      state.markerGroup = layer(svg, "g", { "class": "map-markers", stroke: "#fff", "stroke-width": "1" });
      state.legend = drawLegend(svg, height - 8);
      states.set(figure, state);
      recolour(figure, state);
      if (!figure.dataset.drawnMs) figure.dataset.drawnMs = String(Math.round(performance.now()));
      return figure;
    });
  }

  // One row under the map: label, 0, a gradient bar, the largest value.
  function drawLegend(svg, baseline) {
    var id = "hfs-map-gradient-" + (++gradients), fill = "url(#" + id + ")";
    var group = layer(svg, "g", { "class": "map-legend", "font-size": "12", fill: "#333", direction: "ltr" });
    var gradient = el("linearGradient", { id: id }, el("defs", { "aria-hidden": "true" }, group));
    return {
      label: el("text", { x: 8, y: baseline }, group),
      min: el("text", { y: baseline }, group),
      bar: el("rect", { y: baseline - 9, width: 100, height: 10, fill: fill, "aria-hidden": "true" }, group),
      max: el("text", { y: baseline }, group),
      stops: [el("stop", { offset: "0" }, gradient), el("stop", { offset: "1" }, gradient)],
    };
  }

  // Laid out on each recolour: the label changes with the metric, and its length with the language.
  function layOutLegend(legend, label, low, high, max) {
    legend.label.textContent = label;
    legend.min.textContent = format.format(0);
    legend.max.textContent = format.format(max);
    legend.stops[0].setAttribute("stop-color", low);
    legend.stops[1].setAttribute("stop-color", high);
    var x = 8 + (label ? legend.label.getComputedTextLength() + 12 : 0);
    legend.min.setAttribute("x", x);
    x += legend.min.getComputedTextLength() + 6;
    legend.bar.setAttribute("x", x);
    legend.max.setAttribute("x", x + 106);
  }

  // Recolours the countries, moves the few markers and renumbers the legend; never touches country geometry.
  function recolour(figure, state) {
    var data = latest.get(figure) || {}, metric = figure.dataset.metric || "men", countries = data.countries || {};
    var byNumeric = {}, max = 0;
    Object.keys(countries).forEach(function (code) {
      if (NUMERIC[code]) byNumeric[NUMERIC[code]] = countries[code];
      var value = countries[code][metric];
      if (typeof value === "number" && value > max) max = value;
    });
    var brand = brandColor("--brand-primary", "#5b2a86"), tint = mix("#ffffff", brand, 0.12);
    state.paths.forEach(function (item) {
      var counts = item.feature.id ? byNumeric[item.feature.id] : null, value = counts && counts[metric];
      // A square-root scale from 0: counts are very skewed, and a linear one would leave most countries pale.
      var fill = typeof value === "number" && max > 0 ? mix(tint, brand, Math.sqrt(value / max)) : NEUTRAL;
      item.node.setAttribute("fill", fill);
      item.title.textContent = describe(figure, (item.feature.properties || {}).name || "", counts);
    });
    layOutLegend(state.legend, figure.dataset.legendLabel || "", tint, brand, max);
    drawMarkers(figure, state, data.markers || []);
  }

  // Circles whose area grows with the number of people, kept from one update to the next.
  function drawMarkers(figure, state, markers) {
    var largest = Math.max.apply(null, markers.map(function (m) { return m.total || 0; }).concat([1]));
    var maxRadius = Math.max(8, state.projection.scale() / 12), accent = brandColor("--brand-accent", "#00758d");
    var kept = {};
    markers.slice().sort(function (a, b) { return b.total - a.total; }).forEach(function (marker) {
      var key = [marker.name, marker.latitude, marker.longitude].join("|");
      var placed = typeof marker.longitude === "number" && typeof marker.latitude === "number";
      var point = placed && state.projection([marker.longitude, marker.latitude]);
      if (kept[key] || !point || !isFinite(point[0]) || !isFinite(point[1])) return;
      var circle = kept[key] = state.markers[key] || el("circle");
      if (!circle.firstChild) el("title", {}, circle);
      set(circle, { cx: point[0].toFixed(1), cy: point[1].toFixed(1), fill: accent, "fill-opacity": "0.8",
        r: Math.max(2, maxRadius * Math.sqrt((marker.total || 0) / largest)).toFixed(1) });
      circle.firstChild.textContent = describe(figure, marker.name, marker);
      state.markerGroup.appendChild(circle);  // largest first, so the small ones stay on top
    });
    Object.keys(state.markers).forEach(function (key) { if (!kept[key]) state.markers[key].remove(); });
    state.markers = kept;
  }

  function update(figure, data) {
    latest.set(figure, data);
    var state = states.get(figure);
    if (state) recolour(figure, state);
  }

  // live.js sends only the countries each second; the markers stay as they were.
  function updateCountries(figure, countries) {
    update(figure, Object.assign({}, latest.get(figure), { countries: countries }));
  }

  // <button data-map-metric="per_million" data-map-target="ID">: shade by another number.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-map-metric]");
    var figure = button && document.getElementById(button.dataset.mapTarget);
    if (!figure) return;
    figure.dataset.metric = button.dataset.mapMetric;
    figure.dataset.legendLabel = button.textContent.trim() || figure.dataset.legendLabel;
    document.querySelectorAll("button[data-map-metric]").forEach(function (other) {
      if (other.dataset.mapTarget === figure.id) other.setAttribute("aria-pressed", String(other === button));
    });
    if (states.get(figure)) recolour(figure, states.get(figure));
  });

  function start() {
    document.querySelectorAll("figure.map[data-map-src]").forEach(function (figure) {
      Promise.all([fetchJSON(figure.dataset.mapSrc), loadAtlas(figure.dataset.atlas)])
        .then(function (results) { return render(figure, results[0]); })
        .catch(function (error) { figure.dataset.mapError = String(error); });
    });
  }

  window.HFSMap = { render: render, update: update, updateCountries: updateCountries };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
