// A drawing's page. The buttons that copy the drive's paths of the file,
// for the CAD program's Open dialog. The preview of a DXF drawing: the SVG
// that /_/disegno draws, fetched and put in the page, panned by a finger
// or the mouse, zoomed by the wheel, two fingers, the buttons or the
// keyboard; its layers switched on and off. The SVG's own style is dropped
// (the pages' policy forbids inline style; disegno.css says the same).
(function () {
  "use strict";
  var said = document.getElementById("copia-esito");
  document.querySelectorAll("button.copia-percorso").forEach(function (b) {
    var code = document.getElementById(b.dataset.copia);
    b.hidden = false;
    b.addEventListener("click", function () {
      function done() { said.textContent = "Percorso copiato"; b.textContent = "Copiato"; }
      function fallback() {
        var r = document.createRange();
        r.selectNodeContents(code);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(r);
        try { document.execCommand("copy"); done(); } catch (e) { said.textContent = "Seleziona il percorso e copialo"; }
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(code.textContent).then(done, fallback);
      } else {
        fallback();
      }
    });
  });

  var box = document.getElementById("disegno");
  if (!box) { return; }
  var NS = "http://www.w3.org/2000/svg";
  var view = document.getElementById("vista-disegno");
  var status = document.getElementById("stato-disegno");
  var unavailable = "L'anteprima non è al momento disponibile: riprova più tardi.";

  function fail(msg) {
    status.textContent = msg;
    status.className = "alert alert-warning";
    view.hidden = true;
  }

  fetch(box.dataset.src, { credentials: "same-origin", headers: { "X-Requested-With": "XMLHttpRequest" } })
    .then(function (r) {
      return r.text().then(function (text) {
        return { ok: r.ok, status: r.status, type: r.headers.get("Content-Type") || "", text: text };
      });
    })
    .then(function (res) {
      if (res.status === 401) {
        fail("La sessione è scaduta: ricarica la pagina per accedere di nuovo.");
        return;
      }
      if (!res.ok) {
        fail(res.type.indexOf("text/plain") === 0 && res.text.length < 500 ? res.text : unavailable);
        return;
      }
      // The SVG's own style, for it to be read by itself, goes before it
      // is parsed: the page's policy would refuse it, even unused.
      var doc = new DOMParser().parseFromString(res.text.replace(/<style>[^<]*<\/style>/g, ""), "image/svg+xml");
      var svg = doc.documentElement;
      if (!svg || svg.localName !== "svg" || doc.getElementsByTagName("parsererror").length) {
        fail(unavailable);
        return;
      }
      show(svg);
    })
    .catch(function () { fail(unavailable); });

  function show(src) {
    src.querySelectorAll("style, script").forEach(function (el) { el.remove(); });
    var svg = document.importNode(src, true);
    var g = document.createElementNS(NS, "g");
    g.setAttribute("class", "vista");
    while (svg.firstChild) { g.appendChild(svg.firstChild); }
    svg.appendChild(g);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    view.appendChild(svg);
    status.textContent = "";
    document.getElementById("comandi-disegno").hidden = false;
    layers(svg);
    panZoom(svg, g);
  }

  // layers lists the drawing's layers, each with a box that shows it.
  function layers(svg) {
    var groups = {};
    var names = [];
    svg.querySelectorAll("g[data-layer]").forEach(function (g) {
      var n = g.getAttribute("data-layer");
      if (!groups[n]) { groups[n] = []; names.push(n); }
      groups[n].push(g);
    });
    if (names.length < 2) { return; }
    names.sort(function (a, b) { return a.localeCompare(b, "it"); });
    var list = document.getElementById("elenco-livelli");
    names.forEach(function (n, i) {
      var li = document.createElement("li");
      var label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.id = "livello-" + i;
      box.className = "form-check-input livello";
      box.value = n;
      box.checked = groups[n][0].getAttribute("display") !== "none";
      box.addEventListener("change", function () {
        groups[n].forEach(function (g) {
          if (box.checked) { g.removeAttribute("display"); } else { g.setAttribute("display", "none"); }
        });
      });
      label.appendChild(box);
      // The layer's colour, drawn (the pages' policy allows no style).
      var swatch = document.createElementNS(NS, "svg");
      swatch.setAttribute("width", "14");
      swatch.setAttribute("height", "14");
      swatch.setAttribute("aria-hidden", "true");
      var rect = document.createElementNS(NS, "rect");
      rect.setAttribute("width", "14");
      rect.setAttribute("height", "14");
      rect.setAttribute("fill", groups[n][0].getAttribute("color") || "#000000");
      swatch.appendChild(rect);
      label.appendChild(swatch);
      label.appendChild(document.createTextNode(n));
      li.appendChild(label);
      list.appendChild(li);
    });
    document.getElementById("livelli").hidden = false;
  }

  function panZoom(svg, g) {
    var s = 1, tx = 0, ty = 0;
    var pointers = new Map();
    var pinch = null;

    function apply() {
      g.setAttribute("transform", "translate(" + tx + " " + ty + ") scale(" + s + ")");
    }
    // user is a point of the page's screen in the SVG's coordinates.
    function user(x, y) {
      var p = svg.createSVGPoint();
      p.x = x;
      p.y = y;
      return p.matrixTransform(svg.getScreenCTM().inverse());
    }
    function zoomAt(k, u) {
      var ns = Math.min(Math.max(s * k, 0.2), 20000);
      var qx = (u.x - tx) / s, qy = (u.y - ty) / s;
      s = ns;
      tx = u.x - s * qx;
      ty = u.y - s * qy;
      apply();
    }
    function centre() {
      var vb = svg.viewBox.baseVal;
      return { x: vb.x + vb.width / 2, y: vb.y + vb.height / 2 };
    }
    function panBy(dx, dy) {
      var m = svg.getScreenCTM();
      tx += dx / m.a;
      ty += dy / m.d;
      apply();
    }
    document.getElementById("ingrandisci").addEventListener("click", function () { zoomAt(1.5, centre()); });
    document.getElementById("riduci").addEventListener("click", function () { zoomAt(1 / 1.5, centre()); });
    document.getElementById("adatta").addEventListener("click", function () { s = 1; tx = 0; ty = 0; apply(); });

    view.addEventListener("wheel", function (e) {
      e.preventDefault();
      var d = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
      zoomAt(Math.exp(-d * 0.002), user(e.clientX, e.clientY));
    }, { passive: false });

    view.addEventListener("pointerdown", function (e) {
      view.setPointerCapture(e.pointerId);
      pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      view.classList.add("trascina");
      pinch = null;
    });
    view.addEventListener("pointermove", function (e) {
      var last = pointers.get(e.pointerId);
      if (!last) { return; }
      var now = { x: e.clientX, y: e.clientY };
      if (pointers.size === 1) {
        panBy(now.x - last.x, now.y - last.y);
        pointers.set(e.pointerId, now);
        return;
      }
      pointers.set(e.pointerId, now);
      var ps = Array.from(pointers.values()).slice(0, 2);
      var mid = { x: (ps[0].x + ps[1].x) / 2, y: (ps[0].y + ps[1].y) / 2 };
      var dist = Math.hypot(ps[0].x - ps[1].x, ps[0].y - ps[1].y);
      if (pinch && pinch.dist > 0) {
        panBy(mid.x - pinch.mid.x, mid.y - pinch.mid.y);
        zoomAt(dist / pinch.dist, user(mid.x, mid.y));
      }
      pinch = { mid: mid, dist: dist };
    });
    function up(e) {
      pointers.delete(e.pointerId);
      pinch = null;
      if (pointers.size === 0) { view.classList.remove("trascina"); }
    }
    view.addEventListener("pointerup", up);
    view.addEventListener("pointercancel", up);

    view.addEventListener("keydown", function (e) {
      var step = 40;
      switch (e.key) {
        case "+": case "=": zoomAt(1.5, centre()); break;
        case "-": zoomAt(1 / 1.5, centre()); break;
        case "0": s = 1; tx = 0; ty = 0; apply(); break;
        case "ArrowLeft": panBy(step, 0); break;
        case "ArrowRight": panBy(-step, 0); break;
        case "ArrowUp": panBy(0, step); break;
        case "ArrowDown": panBy(0, -step); break;
        default: return;
      }
      e.preventDefault();
    });
    apply();
  }
})();
