/* Ping'an (平安) — shared browser code: CSRF for htmx and fetch, live streams, timers, the
 * call-taker's keyboard flow, the dispatcher's board and map, the incident panel and the patrol page.
 * Every page part starts from a data attribute on its element, so pages carry no inline script. */
(function () {
  "use strict";

  var Pingan = (window.Pingan = window.Pingan || {});

  // --- CSRF and requests -------------------------------------------------------------------

  Pingan.csrf = function () {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  };

  Pingan.postJSON = function (url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": Pingan.csrf() },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { ok: r.ok, status: r.status, data: data }; });
    });
  };

  Pingan.getJSON = function (url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    });
  };

  Pingan.debounce = function (fn, ms) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  };

  /* Text for a map tooltip, popup or label: Leaflet inserts a string as HTML, an element as it
   * is. Every text that reaches a map goes through here, so a caller's words stay words. */
  Pingan.textElement = function (text, tag) {
    var el = document.createElement(tag || "span");
    el.textContent = text == null ? "" : String(text);
    return el;
  };

  Pingan.lang = function () { return document.documentElement.lang === "en" ? "en" : "zh"; };
  Pingan.t = function (zh, en) { return Pingan.lang() === "en" ? en : zh; };

  if (window.htmx) {
    // 4xx fragments (a refusal, a validation message) are meant to be shown: swap them too.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "[4]..", swap: true, error: false },
      { code: "[5]..", swap: true, error: true }
    ];
    htmx.config.historyCacheSize = 0;
    // Nothing is evaluated from markup (no hx-on, js: values or trigger filters): the
    // Content-Security-Policy (script-src 'self') forbids it anyway. Script tags in swapped
    // fragments stay allowed, as a part's <script type="application/json"> holds its figures;
    // an inline script in one would be refused by the policy.
    htmx.config.allowEval = false;
    document.addEventListener("htmx:configRequest", function (evt) {
      evt.detail.headers["X-CSRF-Token"] = Pingan.csrf();
    });
  }

  // --- live stream of stage events (server-sent events) -------------------------------------

  /* Pingan.live(onEvent, {onOpen}) : one EventSource on /api/v1/incidents/stream; the element
   * [data-live-status] shows whether the page is connected. onOpen runs on every (re)connect so a
   * page can catch up on what happened while it was not listening, and on a snapshot event (the
   * server found this page too far behind to replay what it missed). A stream refused outright
   * (too many open for this session: 429) is not retried by the browser: try again later. */
  var LIVE_RETRY_MS = 30000;
  Pingan.live = function (onEvent, opts) {
    opts = opts || {};
    if (!window.EventSource) { return null; }
    var status = document.querySelector("[data-live-status]");
    var es = null, retry = null, leaving = false;
    function show(state) {
      if (!status) { return; }
      status.dataset.state = state;
      status.textContent = state === "open" ? Pingan.t("实时", "Live") : Pingan.t("重连中…", "Reconnecting…");
    }
    function connect() {
      retry = null;
      es = new EventSource("/api/v1/incidents/stream");
      es.addEventListener("open", function () { show("open"); if (opts.onOpen) { opts.onOpen(); } });
      es.addEventListener("error", function () {
        show("closed");
        if (es.readyState === EventSource.CLOSED && !leaving && !retry) { retry = setTimeout(connect, LIVE_RETRY_MS); }
      });
      es.addEventListener("stage", function (e) {
        var data;
        try { data = JSON.parse(e.data); } catch (err) { return; }
        onEvent(data);
      });
      es.addEventListener("snapshot", function () { if (opts.onOpen) { opts.onOpen(); } });
    }
    connect();
    window.addEventListener("pagehide", function () { leaving = true; clearTimeout(retry); if (es) { es.close(); } });
    return { close: function () { leaving = true; clearTimeout(retry); if (es) { es.close(); } } };
  };

  // --- elapsed-time counters and the accept-target flag -------------------------------------

  function fmtElapsed(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)), ss = String(s).padStart(2, "0");
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }
  Pingan.fmtElapsed = fmtElapsed;

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var since = Date.parse(el.dataset.since);
      if (isNaN(since)) { return; }
      var secs = (now - since) / 1000;
      el.textContent = fmtElapsed(secs);
      var target = parseFloat(el.dataset.targetSeconds || "");
      if (!isNaN(target) && secs > target) {
        var row = el.closest("[data-overdue-scope]") || el;
        if (!row.classList.contains("overdue")) { row.classList.add("overdue"); }
      }
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSettle", tick);

  // --- keyboard: Alt+N takes a new call from anywhere ---------------------------------------

  document.addEventListener("keydown", function (e) {
    if (e.altKey && !e.ctrlKey && !e.metaKey && (e.key === "n" || e.key === "N" || e.code === "KeyN")) {
      var link = document.querySelector("[data-new-call]");
      if (!link) { return; }
      e.preventDefault();
      var form = document.getElementById("call-form");
      if (form) {
        var phone = form.querySelector("#caller_phone");
        if (form.dataset.dirty === "1" && !window.confirm(Pingan.t("放弃正在录入的来电，开始新来电？", "Discard the call being typed and start a new one?"))) {
          if (phone) { phone.focus(); }
          return;
        }
        window.location.href = "/incidents/new";
        return;
      }
      window.location.href = link.getAttribute("href");
    }
  });

  // --- maps (Leaflet over a blank background unless a tile URL is configured) ---------------

  var PRIORITY_COLOURS = { 1: "#c62828", 2: "#ef6c00", 3: "#1565c0", 4: "#607d8b" };
  var ZONE_COLOURS = { centre: "#c0392b", urban: "#e67e22", suburban: "#27ae60" };
  Pingan.PRIORITY_COLOURS = PRIORITY_COLOURS;

  Pingan.maps = [];  // every map on the page (the browser tests open each layer's tooltip and popup)
  Pingan.map = function (el) {
    if (!window.L) { return null; }
    var map = L.map(el, { preferCanvas: true, zoomSnap: 0.25, attributionControl: false, maxZoom: 19 });
    Pingan.maps.push(map);
    if (el.dataset.tileUrl) { L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map); }
    map.setView([parseFloat(el.dataset.lat || "35.30"), parseFloat(el.dataset.lon || "113.90")], 12);
    return map;
  };

  Pingan.loadGrids = function (map, url) {
    return Pingan.getJSON(url).then(function (data) {
      var layer = L.geoJSON(data, {
        style: function (f) {
          var c = ZONE_COLOURS[f.properties.zone_class] || "#78909c";
          return { color: c, weight: 1, opacity: 0.7, fillColor: c, fillOpacity: 0.06 };
        },
        onEachFeature: function (f, l) { l.bindTooltip(Pingan.textElement(f.properties.name + " · " + f.properties.code)); }
      }).addTo(map);
      layer.bringToBack();
      return layer;
    });
  };

  // --- the grid map page (geo/grids.html): grids coloured by zone class, a popup per grid ------

  function initGridMap(el) {
    var map = Pingan.map(el);
    if (!map) { return; }
    var zones = {};
    var data = document.getElementById("zone-data");
    (data ? JSON.parse(data.textContent) : []).forEach(function (z) { zones[z.value] = z; });
    map.setView([parseFloat(el.dataset.lat || "35.30"), parseFloat(el.dataset.lon || "113.90")], 11);
    Pingan.getJSON(el.dataset.geojson).then(function (geojson) {
      var layer = L.geoJSON(geojson, {
        style: function (f) {
          var z = zones[f.properties.zone_class];
          var c = z ? z.colour : "#555";
          return { color: c, weight: 1, fillColor: c, fillOpacity: 0.35 };
        },
        onEachFeature: function (f, l) {
          var z = zones[f.properties.zone_class];
          var div = document.createElement("div");
          div.appendChild(Pingan.textElement(f.properties.name, "strong"));
          div.appendChild(document.createElement("br"));
          div.appendChild(document.createTextNode(f.properties.code + " · " + (z ? Pingan.t(z.zh, z.en) : "")));
          l.bindPopup(div);
        }
      }).addTo(map);
      if (layer.getLayers().length) { map.fitBounds(layer.getBounds()); }
      el.dataset.rendered = "1";
    }).catch(function () { el.dataset.rendered = "error"; });
  }

  // --- the dispatcher's board ----------------------------------------------------------------

  function initBoard(board) {
    var mapEl = document.getElementById("board-map");
    var map = mapEl ? Pingan.map(mapEl) : null;
    var incidentLayer = map ? L.layerGroup().addTo(map) : null;
    var unitLayer = map ? L.layerGroup().addTo(map) : null;
    var fitted = false;

    function drawIncidents() {
      if (!incidentLayer) { return; }
      incidentLayer.clearLayers();
      var bounds = [];
      // the most urgent last, so that they are drawn on top
      var rows = Array.prototype.slice.call(document.querySelectorAll("#board-rows tr[data-id]"));
      rows.sort(function (a, b) { return (b.dataset.priority | 0) - (a.dataset.priority | 0); });
      rows.forEach(function (tr) {
        var lat = parseFloat(tr.dataset.lat), lon = parseFloat(tr.dataset.lon);
        if (isNaN(lat) || isNaN(lon)) { return; }
        var p = tr.dataset.priority;
        var marker = L.circleMarker([lat, lon], {
          radius: p === "1" ? 9 : 7, color: "#fff", weight: 2, fillColor: PRIORITY_COLOURS[p] || "#555",
          fillOpacity: 0.95
        });
        marker.bindTooltip(Pingan.textElement(tr.dataset.number + " · " + tr.dataset.label));
        marker.on("click", function () { window.location.href = tr.dataset.href; });
        marker.addTo(incidentLayer);
        bounds.push([lat, lon]);
      });
      if (!fitted && bounds.length) { map.fitBounds(bounds, { padding: [40, 40], maxZoom: 15 }); fitted = true; }
    }

    function drawUnits() {
      if (!unitLayer || !mapEl.dataset.unitsUrl) { return; }
      Pingan.getJSON(mapEl.dataset.unitsUrl).then(function (units) {
        unitLayer.clearLayers();
        units.forEach(function (u) {
          if (u.lat == null || u.lon == null || u.status === "off_duty") { return; }
          var free = u.status === "available";
          var m = L.circleMarker([u.lat, u.lon], {
            radius: 5, color: free ? "#1b5e20" : "#6d4c41", weight: 2, fillColor: free ? "#66bb6a" : "#ffb74d",
            fillOpacity: 1
          });
          m.bindTooltip(Pingan.textElement(u.call_sign + (free ? Pingan.t(" · 空闲", " · available") : Pingan.t(" · 执行任务", " · on a task"))));
          m.addTo(unitLayer);
        });
      }).catch(function () { /* units are optional on the map */ });
    }

    function refresh() {
      return htmx.ajax("GET", board.dataset.rowsUrl, { target: "#board-live", swap: "outerHTML" }).then(function () {
        drawIncidents();
        drawUnits();
      });
    }
    var refreshSoon = Pingan.debounce(refresh, 250);

    board.addEventListener("click", function (e) {
      if (e.target.closest("a, button")) { return; }
      var tr = e.target.closest("tr[data-href]");
      if (tr) { window.location.href = tr.dataset.href; }
    });

    if (map) {
      Pingan.loadGrids(map, mapEl.dataset.geojson).then(function (layer) {
        if (!fitted && layer.getLayers().length) { map.fitBounds(layer.getBounds()); }
      }).catch(function () {});
    }
    drawIncidents();
    drawUnits();
    Pingan.live(function () { refreshSoon(); }, { onOpen: refreshSoon });
  }

  // --- the incident panel (detail page) -------------------------------------------------------

  function initIncident(root) {
    var id = parseInt(root.dataset.incidentId, 10);
    var panelUrl = root.dataset.panelUrl;

    function actionsBusy() {
      var actions = document.getElementById("incident-actions");
      if (!actions) { return false; }
      if (actions.contains(document.activeElement) && document.activeElement.matches("input, textarea, select")) { return true; }
      return Array.prototype.some.call(actions.querySelectorAll("textarea, input[type=text], select"), function (el) {
        return el.dataset.touched === "1";
      });
    }

    document.addEventListener("input", function (e) {
      if (e.target.closest && e.target.closest("#incident-actions")) { e.target.dataset.touched = "1"; }
    });

    function refresh() {
      var panel = document.getElementById("incident-panel");
      if (!panel) { return; }
      // keep refusal messages where they were: a live refresh must not wipe them (the nodes
      // themselves are put back, never their markup re-parsed)
      var flashes = {};
      panel.querySelectorAll("[data-flash]").forEach(function (el) { flashes[el.dataset.flash] = el; });
      var onlyLive = actionsBusy();
      htmx.ajax("GET", panelUrl, onlyLive
        ? { target: "#incident-live", select: "#incident-live", swap: "outerHTML" }
        : { target: "#incident-panel", swap: "outerHTML" }
      ).then(function () {
        Object.keys(flashes).forEach(function (section) {
          var slot = document.querySelector('[data-flash-slot="' + section + '"]');
          if (slot && !slot.querySelector("[data-flash]")) { slot.prepend(flashes[section]); }
        });
      });
    }
    var refreshSoon = Pingan.debounce(refresh, 200);
    Pingan.live(function (ev) { if (ev.incident_id === id) { refreshSoon(); } }, { onOpen: refreshSoon });
  }

  // --- the patrol page ------------------------------------------------------------------------

  function initPatrol(root) {
    var taskUrl = root.dataset.taskUrl;
    function refresh() {
      if (document.querySelector("#patrol-task [data-busy]")) { return; }
      htmx.ajax("GET", taskUrl, { target: "#patrol-task", swap: "innerHTML" });
    }
    var refreshSoon = Pingan.debounce(refresh, 200);
    Pingan.live(function () { refreshSoon(); }, { onOpen: refreshSoon });
    setInterval(refresh, 30000);  // a safety net if the stream is down

    document.addEventListener("click", function (e) {
      var btn = e.target.closest("[data-report-position]");
      if (!btn) { return; }
      var out = document.getElementById("position-result");
      function say(text, cls) { if (out) { out.textContent = text; out.className = "position-result " + (cls || ""); } }
      if (!navigator.geolocation) {
        say(Pingan.t("此设备不支持定位", "This device cannot report its position"), "bad");
        return;
      }
      btn.disabled = true;
      btn.setAttribute("data-busy", "1");
      say(Pingan.t("正在定位…", "Locating…"));
      navigator.geolocation.getCurrentPosition(function (pos) {
        Pingan.postJSON(btn.dataset.url, { lat: pos.coords.latitude, lon: pos.coords.longitude }).then(function (r) {
          btn.disabled = false;
          btn.removeAttribute("data-busy");
          if (r.ok) {
            say(Pingan.t("位置已上报：", "Position reported: ") + pos.coords.latitude.toFixed(5) + ", " + pos.coords.longitude.toFixed(5), "good");
          } else {
            var err = (r.data && r.data.error) || {};
            say(Pingan.t(err.message || "上报失败", err.message_en || "Report failed"), "bad");
          }
        });
      }, function (err) {
        btn.disabled = false;
        btn.removeAttribute("data-busy");
        say(Pingan.t("无法获取位置：", "No position: ") + err.message, "bad");
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 10000 });
    });
  }

  // --- the call-taker's form -----------------------------------------------------------------

  function initCallForm(form) {
    var loc = form.querySelector("#location_text");
    var list = form.querySelector("#address-candidates");
    var addressId = form.querySelector("#address_id");
    var chosen = form.querySelector("#address-chosen");
    var nearby = document.getElementById("nearby");
    var top = form.querySelector("#category_top");
    var sub = form.querySelector("#category_code");
    var cats = JSON.parse(document.getElementById("category-data").textContent);
    var active = -1, items = [], lastQuery = null, seq = 0;

    form.addEventListener("input", function () { form.dataset.dirty = "1"; });

    // two-level category: the sub-category list follows the top category
    function fillSub(keep) {
      var code = top.value, current = keep || sub.value;
      sub.replaceChildren();
      var group = cats.filter(function (c) { return c.code === code; })[0];
      if (!group) {
        var none = document.createElement("option");
        none.value = ""; none.textContent = Pingan.t("— 先选大类 —", "— choose a category first —");
        sub.appendChild(none);
        return;
      }
      var whole = document.createElement("option");
      whole.value = group.code; whole.textContent = group.code + " " + Pingan.t(group.name, group.name_en) + Pingan.t("（不细分）", " (unspecified)");
      sub.appendChild(whole);
      group.subs.forEach(function (s) {
        var o = document.createElement("option");
        o.value = s.code; o.textContent = s.code + " " + Pingan.t(s.name, s.name_en);
        if (s.code === current) { o.selected = true; }
        sub.appendChild(o);
      });
    }
    top.addEventListener("change", function () { fillSub(); });
    fillSub(sub.dataset.selected);

    // priority: keys 1–4 inside the priority group, Alt+1…4 anywhere in the form
    form.addEventListener("keydown", function (e) {
      var inGroup = e.target.closest && e.target.closest("#priority-group");
      if ((inGroup && !e.altKey && /^[1-4]$/.test(e.key)) || (e.altKey && /^Digit[1-4]$/.test(e.code))) {
        var n = e.key.match(/[1-4]/) ? e.key : e.code.slice(-1);
        var radio = form.querySelector('input[name="priority"][value="' + n + '"]');
        if (radio) { radio.checked = true; if (inGroup) { radio.focus(); } e.preventDefault(); }
      }
    });

    // Enter submits from any field; Shift+Enter is a new line in the description
    form.addEventListener("keydown", function (e) {
      if (e.key !== "Enter" || e.shiftKey || e.isComposing) { return; }
      if (e.target === loc && !list.hidden && active >= 0) { return; }  // picks a candidate instead
      if (e.target.matches("button, a")) { return; }
      e.preventDefault();
      form.requestSubmit();
    });

    // live address matching
    function close() {
      list.hidden = true; active = -1; loc.setAttribute("aria-expanded", "false"); loc.removeAttribute("aria-activedescendant");
    }
    function highlight(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, j) { li.setAttribute("aria-selected", j === i ? "true" : "false"); });
      if (i >= 0 && list.children[i]) {
        loc.setAttribute("aria-activedescendant", list.children[i].id);
        list.children[i].scrollIntoView({ block: "nearest" });
      }
    }
    function pick(i) {
      var c = items[i];
      if (!c) { return; }
      addressId.value = c.address_id;
      addressId.dataset.text = loc.value;
      form.querySelector("#pick_lat").value = c.lat;
      form.querySelector("#pick_lon").value = c.lon;
      form.querySelector("#chosen_text").value = c.full_text;
      chosen.hidden = false;
      chosen.querySelector("[data-chosen-text]").textContent = c.full_text;
      chosen.querySelector("[data-chosen-score]").textContent = Pingan.t("匹配度 ", "score ") + c.score.toFixed(2);
      close();
      if (nearby) {
        var url = nearby.dataset.url + "?address_id=" + encodeURIComponent(c.address_id) +
          "&lat=" + encodeURIComponent(c.lat) + "&lon=" + encodeURIComponent(c.lon);
        htmx.ajax("GET", url, { target: "#nearby", swap: "innerHTML" });
      }
    }
    function render(cands) {
      items = cands;
      list.replaceChildren();
      if (!cands.length) {
        var li = document.createElement("li");
        li.className = "empty"; li.textContent = Pingan.t("辖区内没有匹配的标准地址", "No matching standard address in your jurisdiction");
        list.appendChild(li);
      }
      cands.forEach(function (c, i) {
        var li = document.createElement("li");
        li.id = "cand-" + i;
        li.setAttribute("role", "option");
        li.dataset.addressId = c.address_id;
        li.className = c.score >= 0.6 ? "strong" : "weak";
        var text = document.createElement("span"); text.className = "cand-text"; text.textContent = c.full_text;
        var score = document.createElement("span"); score.className = "cand-score"; score.textContent = c.score.toFixed(2);
        var bar = document.createElement("span"); bar.className = "cand-bar";
        var fill = document.createElement("span"); fill.style.width = Math.round(c.score * 100) + "%"; bar.appendChild(fill);
        li.appendChild(text); li.appendChild(bar); li.appendChild(score);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(i); });
        list.appendChild(li);
      });
      list.hidden = false;
      loc.setAttribute("aria-expanded", "true");
      // a fresh list keeps the user's place in it (arrow keys pressed while it loaded)
      highlight(active >= 0 && cands.length ? Math.min(active, cands.length - 1) : -1);
    }
    var search = Pingan.debounce(function () {
      var q = loc.value.trim();
      if (!q) { close(); items = []; return; }
      if (q === lastQuery && items.length) { list.hidden = false; return; }
      lastQuery = q;
      var mine = ++seq;
      Pingan.getJSON(form.dataset.matchUrl + "?limit=6&q=" + encodeURIComponent(q)).then(function (cands) {
        if (mine === seq) { render(cands); }
      }).catch(function () { if (mine === seq) { close(); } });
    }, 200);
    loc.addEventListener("input", function () {
      if (addressId.value && addressId.dataset.text !== loc.value) {
        addressId.value = ""; chosen.hidden = true;
        form.querySelector("#pick_lat").value = ""; form.querySelector("#pick_lon").value = "";
        form.querySelector("#chosen_text").value = "";
        if (nearby) { nearby.replaceChildren(); }
      }
      search();
    });
    loc.addEventListener("keydown", function (e) {
      if (list.hidden || !items.length) {
        if (e.key === "ArrowDown" && items.length) { list.hidden = false; highlight(0); e.preventDefault(); }
        return;
      }
      if (e.key === "ArrowDown") { highlight(Math.min(active + 1, items.length - 1)); e.preventDefault(); }
      else if (e.key === "ArrowUp") { highlight(Math.max(active - 1, 0)); e.preventDefault(); }
      else if (e.key === "Enter" && active >= 0) { pick(active); e.preventDefault(); }
      else if (e.key === "Escape") { close(); e.preventDefault(); }
    });
    loc.addEventListener("blur", function () { setTimeout(close, 150); });
    if (loc.value && !addressId.value) { search(); }
  }

  // --- start whatever the page holds ----------------------------------------------------------

  document.addEventListener("DOMContentLoaded", function () {
    var el, best = null;
    document.querySelectorAll(".mainnav a").forEach(function (a) {
      var href = a.getAttribute("href");
      if (location.pathname === href || location.pathname.indexOf(href + "/") === 0) {
        if (!best || href.length > best.getAttribute("href").length) { best = a; }
      }
    });
    if (best) { best.setAttribute("aria-current", "page"); }
    if ((el = document.getElementById("call-form"))) { initCallForm(el); }
    if ((el = document.querySelector("[data-board]"))) { initBoard(el); }
    if ((el = document.querySelector("[data-grid-map]"))) { initGridMap(el); }
    if ((el = document.querySelector("[data-incident-id]"))) { initIncident(el); }
    if ((el = document.querySelector("[data-patrol]"))) { initPatrol(el); }
  });
})();
