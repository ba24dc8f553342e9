/* Ping'an (平安) — the statistics dashboards: ECharts charts and the Leaflet grid map, the period
 * picker and the selects that redraw a view. The page embeds the figures of the charts it
 * computed itself (<script type="application/json" id="stats-data">); the other charts arrive
 * after it as parts (/stats/charts, put in place by htmx, each with its own figures in a
 * <script data-stats-charts>), and the map fetches its grid values beside the grid polygons.
 * Every bar, point and grid polygon links to the records behind it: the server gives each figure
 * its records address (a grid's is the map's address plus filter=grid:<id>). Charts, their
 * figures and the map are kept in Pingan.stats for the tests. */
(function () {
  "use strict";

  var Pingan = (window.Pingan = window.Pingan || {});
  var t = function (zh, en) { return Pingan.t ? Pingan.t(zh, en) : zh; };
  var stats = (Pingan.stats = { charts: {}, data: {}, map: null, layer: null, values: null });

  function readData(el) {
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (err) { return null; }
  }

  // Every chart box not drawn yet whose figures have arrived (the page's, or a part's).
  function renderPending() {
    document.querySelectorAll("script[data-stats-charts]:not([data-read])").forEach(function (el) {
      el.dataset.read = "1";
      Object.assign(stats.data, readData(el) || {});
    });
    document.querySelectorAll("[data-chart]:not([data-rendered])").forEach(function (el) {
      if (stats.data[el.dataset.chart]) { renderChart(el, stats.data[el.dataset.chart]); }
    });
  }

  function fmt(value, spec) {
    if (value === null || value === undefined) { return "—"; }
    if (spec.rate) { return value.toFixed(1) + "%"; }
    if (Math.round(value) === value) { return value.toLocaleString(); }
    return value.toFixed(1);
  }

  function go(href) { if (href) { window.location.assign(href); } }

  // --- charts ----------------------------------------------------------------------------------

  var PALETTE = ["#1f5fae", "#9aa9bc", "#e67e22", "#2e7d32"];

  function chartOption(el, spec) {
    var horizontal = el.dataset.horizontal === "1";
    var asLine = el.dataset.type === "line";
    var lastYearAsLine = el.dataset.lastYear === "line";
    var category = { type: "category", data: spec.labels, axisLabel: { hideOverlap: true } };
    var value = { type: "value", name: spec.unit || "", axisLabel: { formatter: spec.rate ? "{value}%" : "{value}" } };
    if (spec.rate) { value.max = 100; }
    var series = spec.series.map(function (s, i) {
      var line = asLine || (s.dashed && lastYearAsLine);
      return {
        name: s.name, type: line ? "line" : "bar", data: s.values, connectNulls: false,
        symbolSize: line ? 7 : undefined, barMaxWidth: 28, cursor: "pointer",
        itemStyle: { color: PALETTE[i % PALETTE.length] },
        lineStyle: s.dashed ? { type: "dashed" } : undefined
      };
    });
    return {
      animation: false,
      color: PALETTE,
      grid: { left: horizontal ? 110 : 52, right: 20, top: 34, bottom: 30, containLabel: false },
      legend: { top: 0, data: spec.series.map(function (s) { return s.name; }) },
      tooltip: {
        trigger: "axis", axisPointer: { type: asLine ? "line" : "shadow" },
        valueFormatter: function (v) { return fmt(v, spec); }
      },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? Object.assign({}, category, { inverse: true }) : value,
      series: series
    };
  }

  function renderChart(el, spec) {
    if (!window.echarts || !spec) { return; }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(chartOption(el, spec));
    chart.on("click", function (p) {
      var s = spec.series[p.seriesIndex];
      go(s && s.hrefs && s.hrefs[p.dataIndex]);
    });
    // A click on the axis band (not just the bar) opens this period's records too.
    chart.getZr().on("click", function (e) {
      if (e.target) { return; }
      var point = [e.offsetX, e.offsetY];
      if (!chart.containPixel("grid", point)) { return; }
      var horizontal = el.dataset.horizontal === "1";
      var index = chart.convertFromPixel({ seriesIndex: 0 }, point)[horizontal ? 1 : 0];
      if (typeof index === "number" && spec.series[0].hrefs) { go(spec.series[0].hrefs[index]); }
    });
    el.dataset.rendered = "1";
    stats.charts[el.dataset.chart] = chart;
  }

  // --- the grid map ----------------------------------------------------------------------------

  // Darker is worse: a count where fewer is better darkens as it grows; a share where more is
  // better darkens as it falls.
  var SHADES = ["#fff4e6", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"];
  var NO_VALUE = "#d5dbe3";

  function breaks(values) {
    var sorted = values.filter(function (v) { return v !== null && v !== undefined; }).sort(function (a, b) { return a - b; });
    if (!sorted.length) { return []; }
    var out = [];
    for (var i = 1; i < SHADES.length; i++) { out.push(sorted[Math.floor(i * (sorted.length - 1) / SHADES.length)]); }
    return out;
  }

  function shade(value, cuts, higherIsBetter) {
    if (value === null || value === undefined) { return NO_VALUE; }
    var k = 0;
    while (k < cuts.length && value > cuts[k]) { k++; }
    return SHADES[higherIsBetter ? SHADES.length - 1 - k : k];
  }

  function legend(spec, cuts) {
    var el = document.getElementById("grid-map-legend");
    if (!el) { return; }
    el.textContent = "";
    var title = document.createElement("strong");
    title.textContent = spec.name + (spec.unit ? "（" + spec.unit + "）" : "") + " ";
    el.appendChild(title);
    var bounds = [null].concat(cuts).concat([null]);
    for (var i = 0; i < SHADES.length; i++) {
      var item = document.createElement("span");
      item.className = "legend-item";
      var sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = SHADES[spec.higher_is_better ? SHADES.length - 1 - i : i];
      item.appendChild(sw);
      var lo = bounds[i], hi = bounds[i + 1];
      var range = lo === null ? "≤" + fmt(hi, spec) : hi === null ? "> " + fmt(lo, spec) : fmt(lo, spec) + "–" + fmt(hi, spec);
      item.appendChild(document.createTextNode(" " + range + " "));
      el.appendChild(item);
    }
    var none = document.createElement("span");
    none.className = "legend-item";
    var sw0 = document.createElement("span");
    sw0.className = "swatch";
    sw0.style.background = NO_VALUE;
    none.appendChild(sw0);
    none.appendChild(document.createTextNode(" " + t("无数据", "no data")));
    el.appendChild(none);
  }

  function styleMap(spec) {
    stats.values = spec;
    if (!stats.layer) { return; }
    var values = spec.values || {};
    var cuts = breaks(Object.keys(values).map(function (k) { return values[k][0]; }));
    stats.layer.eachLayer(function (layer) {
      var f = layer.feature, v = values[f.properties.id];
      var colour = shade(v ? v[0] : null, cuts, spec.higher_is_better);
      layer.setStyle({ color: "#5b6b7f", weight: 0.6, fillColor: colour, fillOpacity: 0.8 });
      var text = f.properties.name + "：" + (v ? fmt(v[0], spec) : t("无数据", "no data"));
      if (v && v[1] !== null && v[1] !== undefined) { text += " · " + t("去年同期 ", "last year ") + fmt(v[1], spec); }
      // an element, not a string: Leaflet would insert a string (a grid's name) as HTML
      layer.bindTooltip(Pingan.textElement(text), { sticky: true });
    });
    legend(spec, cuts);
    document.getElementById("grid-map").dataset.kpi = spec.kpi;
  }

  function gridHref(id) {
    var spec = stats.values;
    return spec ? spec.href + "&filter=" + encodeURIComponent("grid:" + id) : null;
  }
  stats.gridHref = gridHref;

  function valuesUrl(el, kpi) { return el.dataset.valuesHref + "&kpi=" + encodeURIComponent(kpi); }

  // The grid polygons and the chosen KPI's values, fetched side by side; drawn when both are here.
  function renderMap(el) {
    if (!window.L) { return; }
    var map = L.map(el, { preferCanvas: true, zoomSnap: 0.25 });
    if (el.dataset.tileUrl) { L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map); }
    map.setView([35.30, 113.90], 10);
    stats.map = map;
    if (Pingan.maps) { Pingan.maps.push(map); }
    var select = document.querySelector("[data-map-select]");
    var polygons = fetch(el.dataset.geojson, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); });
    var values = Pingan.getJSON(valuesUrl(el, select ? select.value : ""));
    Promise.all([polygons, values])
      .then(function (both) {
        stats.layer = L.geoJSON(both[0], {
          onEachFeature: function (f, layer) { layer.on("click", function () { go(gridHref(f.properties.id)); }); }
        }).addTo(map);
        if (stats.layer.getLayers().length) { map.fitBounds(stats.layer.getBounds()); }
        styleMap(both[1]);
        el.dataset.rendered = "1";
      })
      .catch(function () { el.dataset.rendered = "error"; });
    var select = document.querySelector("[data-map-select]");
    if (select) {
      select.addEventListener("change", function () {
        el.dataset.rendered = "loading";
        Pingan.getJSON(valuesUrl(el, select.value)).then(function (next) { styleMap(next); el.dataset.rendered = "1"; })
          .catch(function () { el.dataset.rendered = "error"; });
      });
    }
  }

  // --- the period picker and the selects that redraw a view -------------------------------------

  function picker(form) {
    var kind = form.querySelector("[data-kind-select]");
    function show() {
      form.querySelectorAll("[data-kind]").forEach(function (label) {
        var on = label.dataset.kind.split(" ").indexOf(kind.value) >= 0;
        label.hidden = !on;
        label.querySelectorAll("input, select").forEach(function (input) { input.disabled = !on; });
      });
    }
    kind.addEventListener("change", show);
    show();
  }

  function start() {
    document.querySelectorAll("[data-period-picker]").forEach(picker);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        var form = select.form;
        if (form) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
      });
    });
    Object.assign(stats.data, readData(document.getElementById("stats-data")) || {});
    renderPending();
    // a part of the charts put in place (htmx:load fires on each element it adds)
    document.addEventListener("htmx:load", renderPending);
    // A part that fails keeps its box and says so (the app swaps error answers in elsewhere, to
    // show their message: here an error page would land inside the chart grid).
    function partFailed(e) {
      var box = e.target.closest && e.target.closest("[data-charts-part]");
      if (!box) { return null; }
      box.dataset.rendered = "error";
      box.removeAttribute("aria-busy");
      var counting = box.querySelector(".chart-counting");
      if (counting) { counting.hidden = true; }
      var failed = box.querySelector(".chart-failed");
      if (failed) { failed.hidden = false; }
      return box;
    }
    document.addEventListener("htmx:beforeSwap", function (e) {
      if (e.detail.xhr && e.detail.xhr.status >= 400 && partFailed(e)) { e.detail.shouldSwap = false; }
    });
    document.addEventListener("htmx:sendError", partFailed);
    var mapEl = document.getElementById("grid-map");
    if (mapEl) { renderMap(mapEl); }
    window.addEventListener("resize", function () {
      Object.keys(stats.charts).forEach(function (k) { stats.charts[k].resize(); });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
