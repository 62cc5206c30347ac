"""core/static/map.js in a real browser, without the Flask app.

A harness page on the made-up origin http://maps.test is answered by playwright itself (``page.route``):
the page, the files under core/static (as /static/core/...), a fake /map.json and a brand stylesheet, all
under the production Content-Security-Policy. Any request to another origin is recorded and refused.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

import pytest

from tests.conftest import cannot_run

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "core" / "static"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ORIGIN = "http://maps.test"
CSP = "default-src 'self'; script-src 'self'; style-src 'self'"
BRAND, ACCENT, NEUTRAL = "#1d4e89", "#c0392b", "#dcdcdc"
FRANCE, KENYA, CANADA, RUSSIA, FIJI = "250", "404", "124", "643", "242"

DATA = {
    "countries": {
        "FR": {"total": 20000, "men": 12345, "per_million": 0.5},
        "KE": {"total": 900, "men": 600, "per_million": 44.1},
        "BR": {"total": 300, "men": 100, "per_million": 1.0},
        "RU": {"total": 200, "men": 120, "per_million": None},
        "FJ": {"total": 50, "men": 30, "per_million": 60.0},
        "XK": {"total": 40, "men": 20, "per_million": 1.0},  # Kosovo: not in ISO 3166, no feature id
    },
    "markers": [
        {"name": "Paris office", "latitude": 48.85, "longitude": 2.35, "total": 40, "men": 25},
        {"name": "Nairobi office", "latitude": -1.29, "longitude": 36.82, "total": 10, "men": 6},
        {"name": "Tokyo office", "latitude": 35.68, "longitude": 139.69, "total": 90, "men": 50},
    ],
    "updated_at": "2026-11-28T04:00:00Z",
}

HARNESS = """<!doctype html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>Map harness</title>
  <link rel="stylesheet" href="/static/core/app.css">
  <link rel="stylesheet" href="/brand.css">
</head>
<body>
<main>
  <div class="map-controls" role="group" aria-label="Shade countries by">
    <button type="button" class="toggle" data-map-metric="men" data-map-target="world-map"
            aria-pressed="true">Men committed</button>
    <button type="button" class="toggle" data-map-metric="per_million" data-map-target="world-map"
            aria-pressed="false">Per million men</button>
  </div>
  <figure class="map" id="world-map" data-map-src="/map.json" data-metric="men"
          data-atlas="/static/core/vendor/countries-110m.json"
          data-label="World map of commitments" data-legend-label="Men committed">
    <svg class="map-canvas" role="img" aria-labelledby="map-caption"></svg>
    <figcaption id="map-caption">World map of commitments</figcaption>
  </figure>
</main>
<script src="/static/core/vendor/d3-array.min.js"></script>
<script src="/static/core/vendor/d3-geo.min.js"></script>
<script src="/static/core/vendor/topojson-client.min.js"></script>
<script src="/static/core/map.js"></script>
</body>
</html>
"""

pytestmark = pytest.mark.browser


def serve(route):
    """Answer one request to http://maps.test: the harness, the fake data, or a file under core/static."""
    path = route.request.url.removeprefix(ORIGIN).split("?")[0]
    headers = {"Content-Security-Policy": CSP}
    if path == "/":
        return route.fulfill(body=HARNESS, content_type="text/html; charset=utf-8", headers=headers)
    if path == "/map.json":
        return route.fulfill(body=json.dumps(DATA), content_type="application/json", headers=headers)
    if path == "/brand.css":
        body = f":root {{ --brand-primary: {BRAND}; --brand-accent: {ACCENT}; }}\n"
        return route.fulfill(body=body, content_type="text/css", headers=headers)
    file = (STATIC / path.removeprefix("/static/core/")).resolve()
    if path.startswith("/static/core/") and file.is_relative_to(STATIC) and file.is_file():
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return route.fulfill(body=file.read_bytes(), content_type=content_type, headers=headers)
    return route.fulfill(status=404, body="not found", content_type="text/plain", headers=headers)


@pytest.fixture
def map_page(browser):
    """The harness, loaded and drawn; ``map_page.requests`` lists every URL the page asked for."""
    context = browser.new_context(viewport={"width": 1000, "height": 800}, locale="en-GB")
    tab = context.new_page()
    tab.requests, tab.problems = [], []
    tab.on("request", lambda request: tab.requests.append(request.url))
    tab.on("console", lambda message: message.type == "error" and tab.problems.append(message.text))
    tab.on("pageerror", lambda error: tab.problems.append(str(error)))
    context.route("**/*", lambda route: route.abort())  # anything not to maps.test is refused
    tab.route(f"{ORIGIN}/**", serve)
    tab.goto(f"{ORIGIN}/")
    tab.wait_for_selector("figure.map[data-drawn-ms]", state="attached", timeout=5000)
    yield tab
    context.close()


def fill_of(page, numeric_id: str) -> str:
    return page.get_attribute(f'.map-countries path[data-id="{numeric_id}"]', "fill")


def darkest(page) -> str:
    """The country whose fill is the darkest (lowest luminance), as its numeric id."""
    return page.evaluate("""() => {
        const weights = [0.2126, 0.7152, 0.0722];
        const luminance = (hex) => weights.reduce((sum, w, k) => sum + w * parseInt(hex.substr(1 + 2 * k, 2), 16), 0);
        const paths = [...document.querySelectorAll(".map-countries path")];
        paths.sort((a, b) => luminance(a.getAttribute("fill")) - luminance(b.getAttribute("fill")));
        return paths[0].dataset.id;
    }""")


def test_every_country_is_drawn_and_shaded_by_its_count(map_page):
    paths = map_page.locator(".map-countries path")
    assert paths.count() > 170
    assert fill_of(map_page, FRANCE) == BRAND  # the most men: the brand colour itself, read from the CSS
    assert darkest(map_page) == FRANCE
    assert fill_of(map_page, KENYA) not in (BRAND, NEUTRAL)
    assert fill_of(map_page, CANADA) == NEUTRAL  # no data
    no_code = map_page.eval_on_selector_all(
        '.map-countries path[data-id=""]', "paths => paths.map(p => p.getAttribute('fill'))")
    assert no_code == [NEUTRAL] * 3  # Kosovo, N. Cyprus, Somaliland: drawn, never shaded (XK is in the data)
    france_title = map_page.text_content(f'.map-countries path[data-id="{FRANCE}"] > title')
    assert france_title.startswith("France") and "12,345" in france_title and "20,000" in france_title
    legend = map_page.text_content(".map-legend")
    assert "Men committed" in legend and "12,345" in legend and "0" in legend
    assert map_page.problems == []


def test_the_antimeridian_is_handled(map_page):
    boxes = map_page.evaluate("""(ids) => {
        const svg = document.querySelector("svg.map-canvas");
        const box = (element) => {
            const b = element.getBBox();
            return {x: b.x, y: b.y, width: b.width, height: b.height};
        };
        const sphere = svg.querySelector(":scope > path[aria-hidden]");
        const centre = new DOMPoint(box(sphere).x + box(sphere).width / 2, box(sphere).y + box(sphere).height / 2);
        const countries = [...svg.querySelectorAll(".map-countries path")];
        return {
            sphere: box(sphere),
            russia: box(svg.querySelector(`path[data-id="${ids[0]}"]`)),
            fiji: box(svg.querySelector(`path[data-id="${ids[1]}"]`)),
            fijiPath: svg.querySelector(`path[data-id="${ids[1]}"]`).getAttribute("d"),
            // (0°, 0°) is open sea: a ring wound the wrong way round would cover the whole globe, and this point.
            coveringCentre: countries.filter((path) => path.isPointInFill(centre)).length,
            // An outline that is not cut at 180° jumps from one side of the map to the other: the longest step
            // between two points of Russia's or Fiji's outline stays short when d3-geo's clipping cut it.
            longestStep: ids.map((id) => {
                const d = svg.querySelector(`path[data-id="${id}"]`).getAttribute("d");
                return Math.max(...d.split(/[MZ]/).filter(Boolean).map((ring) => {
                    const xs = ring.split("L").map((point) => parseFloat(point.split(",")[0]));
                    return Math.max(0, ...xs.slice(1).map((x, i) => Math.abs(x - xs[i])));
                }));
            }),
        };
    }""", [RUSSIA, FIJI])
    sphere, russia, fiji = boxes["sphere"], boxes["russia"], boxes["fiji"]
    assert russia["width"] <= sphere["width"] + 1 and russia["x"] >= sphere["x"] - 1
    assert russia["height"] < 0.35 * sphere["height"]  # Russia alone, not smeared over the globe
    assert russia["y"] + russia["height"] < sphere["y"] + sphere["height"] / 2  # all of it north of the equator
    assert boxes["fijiPath"] and fiji["width"] > 0 and fiji["height"] < 0.1 * sphere["height"]
    assert boxes["coveringCentre"] == 0
    assert max(boxes["longestStep"]) < 0.1 * sphere["width"], boxes["longestStep"]
    assert fill_of(map_page, RUSSIA) not in (NEUTRAL, BRAND)


def test_markers_grow_with_their_totals(map_page):
    markers = map_page.eval_on_selector_all(".map-markers circle", """circles => circles.map(c => ({
        name: c.querySelector("title").textContent, r: parseFloat(c.getAttribute("r")), fill: c.getAttribute("fill"),
    }))""")
    radius = {m["name"].split(":")[0]: m["r"] for m in markers}
    assert radius["Nairobi office"] < radius["Paris office"] < radius["Tokyo office"]
    assert {m["fill"] for m in markers} == {ACCENT}
    assert any(m["name"] == "Paris office: 25 men, 40 in all" for m in markers)


def test_update_recolours_in_place(map_page):
    before = map_page.query_selector(f'.map-countries path[data-id="{FRANCE}"]')
    map_page.evaluate("() => { window.pathsBefore = [...document.querySelectorAll('.map-countries path')]; }")
    newer = json.loads(json.dumps(DATA))
    newer["countries"]["KE"]["men"] = 50000
    map_page.evaluate("data => HFSMap.update(document.getElementById('world-map'), data)", newer)
    after = map_page.query_selector(f'.map-countries path[data-id="{FRANCE}"]')
    assert map_page.evaluate("([a, b]) => a === b && a.isConnected", [before, after])  # the very same element
    assert map_page.evaluate("""() => {
        const now = [...document.querySelectorAll('.map-countries path')];
        return now.length === pathsBefore.length && now.every((path, i) => path === pathsBefore[i]);
    }""")  # and no path was drawn again
    assert fill_of(map_page, KENYA) == BRAND and fill_of(map_page, FRANCE) != BRAND
    assert "50,000" in map_page.text_content(f'.map-countries path[data-id="{KENYA}"] > title')
    # live.js sends the countries alone: the markers stay.
    map_page.evaluate("data => HFSMap.updateCountries(document.getElementById('world-map'), data)", DATA["countries"])
    assert fill_of(map_page, FRANCE) == BRAND and map_page.locator(".map-markers circle").count() == 3


def test_the_metric_buttons_switch_the_shading(map_page):
    per_million = map_page.get_by_role("button", name="Per million men")
    per_million.click()
    assert per_million.get_attribute("aria-pressed") == "true"
    assert map_page.get_by_role("button", name="Men committed").get_attribute("aria-pressed") == "false"
    assert map_page.get_attribute("#world-map", "data-metric") == "per_million"
    assert fill_of(map_page, FIJI) == BRAND  # 60 per million: the highest
    assert fill_of(map_page, FRANCE) not in (BRAND, NEUTRAL)
    assert fill_of(map_page, RUSSIA) == NEUTRAL  # no per-million figure
    assert "Per million men" in map_page.text_content(".map-legend")


def test_the_map_stays_on_its_own_origin_and_is_accessible(map_page):
    assert map_page.requests and all(url.startswith(f"{ORIGIN}/") for url in map_page.requests), map_page.requests
    svg = map_page.locator("svg.map-canvas")
    assert svg.get_attribute("role") == "img"
    assert map_page.get_by_role("img", name="World map of commitments").count() == 1
    assert map_page.locator("svg.map-canvas defs[aria-hidden='true']").count() == 1
    if not AXE.exists():
        cannot_run("browser", "needs axe-core from npm: run `npm ci`")
    map_page.evaluate(AXE.read_text())  # evaluated by the browser directly: the page's CSP stays on
    result = map_page.evaluate("""async () => await axe.run(document.getElementById("world-map"), {
        runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})""")
    assert [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")] == []
    assert map_page.problems == []


def test_the_map_draws_quickly(map_page):
    drawn = float(map_page.get_attribute("#world-map", "data-drawn-ms"))
    print(f"\nmap drawn {drawn:.0f} ms after navigation started (performance.now() in the page)")
    assert 0 < drawn < 5000
