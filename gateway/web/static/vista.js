// The viewer of scans and PDFs: pages change without reloading the page
// (buttons, thumbnails, keys, a swipe), the page zooms (buttons, keys, a
// pinch) and is fetched again at the width the zoom needs. Without this
// script the viewer still works: every control is a link or a form.
(function () {
  "use strict";
  var root = document.getElementById("visore");
  if (!root) { return; }
  var pages = parseInt(root.dataset.pagine, 10);
  var current = parseInt(root.dataset.pagina, 10);
  var base = root.dataset.immagine;
  var img = document.getElementById("pagina-corrente");
  var frame = document.getElementById("pagina-grande");
  var input = document.getElementById("numero-pagina");
  var prev = document.getElementById("precedente");
  var next = document.getElementById("successiva");
  var status = document.getElementById("stato-pagina");
  var problem = document.getElementById("errore-pagina");
  var thumbs = document.getElementById("miniature");
  var name = document.getElementById("nome-file").textContent;
  var widths = [1024, 1600, 2400];
  var scale = 1; // 1: the page fits the frame's width
  var pinch = null, swipe = null;

  document.getElementById("zoom").hidden = false;

  // renderWidth is the smallest width the server renders that is sharp
  // at the page's size on this screen.
  function renderWidth() {
    var want = frame.clientWidth * scale * (window.devicePixelRatio || 1);
    for (var i = 0; i < widths.length; i++) {
      if (widths[i] >= want) { return widths[i]; }
    }
    return widths[widths.length - 1];
  }
  function src(n) { return base + "?n=" + n + "&w=" + renderWidth(); }

  function show() {
    problem.hidden = true;
    img.style.width = (scale * 100) + "%";
    img.classList.toggle("ingrandita", scale > 1);
    var s = src(current);
    if (img.getAttribute("src") !== s) { img.setAttribute("src", s); }
    img.alt = "Pagina " + current + " di " + pages + " di " + name;
    input.value = current;
    status.textContent = "Pagina " + current + " di " + pages;
    link(prev, current > 1 ? current - 1 : 0);
    link(next, current < pages ? current + 1 : 0);
    var old = thumbs.querySelector("[aria-current]");
    if (old) { old.removeAttribute("aria-current"); }
    var t = thumbs.querySelector('a[data-n="' + current + '"]');
    if (t) {
      t.setAttribute("aria-current", "page");
      t.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
    history.replaceState(null, "", "?n=" + current);
    // The next page is fetched ahead: turning to it shows it at once.
    if (current < pages) { new Image().src = src(current + 1); }
  }
  function link(a, n) {
    if (n) {
      a.href = "?n=" + n;
      a.removeAttribute("aria-disabled");
      a.removeAttribute("tabindex");
    } else {
      a.href = "#";
      a.setAttribute("aria-disabled", "true");
      a.setAttribute("tabindex", "-1");
    }
  }
  function go(n) {
    n = Math.max(1, Math.min(pages, n));
    if (n === current) { return; }
    current = n;
    frame.scrollTop = 0;
    show();
  }
  function zoom(s) {
    scale = Math.max(1, Math.min(4, s));
    show();
  }

  prev.addEventListener("click", function (e) { e.preventDefault(); go(current - 1); });
  next.addEventListener("click", function (e) { e.preventDefault(); go(current + 1); });
  document.getElementById("vai-pagina").addEventListener("submit", function (e) {
    e.preventDefault();
    var n = parseInt(input.value, 10);
    if (n >= 1 && n <= pages) { go(n); } else { input.value = current; }
  });
  document.getElementById("ingrandisci").addEventListener("click", function () { zoom(scale * 1.5); });
  document.getElementById("riduci").addEventListener("click", function () { zoom(scale / 1.5); });
  document.getElementById("adatta").addEventListener("click", function () { zoom(1); });
  thumbs.addEventListener("click", function (e) {
    var a = e.target.closest("a[data-n]");
    if (!a) { return; }
    e.preventDefault();
    go(parseInt(a.dataset.n, 10));
    frame.focus();
  });
  document.addEventListener("keydown", function (e) {
    if (e.target.closest("input, textarea, select") || e.altKey || e.ctrlKey || e.metaKey) { return; }
    switch (e.key) {
      case "ArrowRight": case "PageDown": go(current + 1); break;
      case "ArrowLeft": case "PageUp": go(current - 1); break;
      case "Home": go(1); break;
      case "End": go(pages); break;
      case "+": case "=": zoom(scale * 1.5); break;
      case "-": zoom(scale / 1.5); break;
      case "0": zoom(1); break;
      default: return;
    }
    e.preventDefault();
  });

  // Touch: a horizontal swipe turns the page when it fits the frame; two
  // fingers zoom (the image is stretched while they move, fetched again
  // at the new width when they lift).
  function distance(t) { return Math.hypot(t[0].clientX - t[1].clientX, t[0].clientY - t[1].clientY); }
  frame.addEventListener("touchstart", function (e) {
    if (e.touches.length === 2) {
      pinch = { d: distance(e.touches), s: scale };
      swipe = null;
    } else if (e.touches.length === 1 && scale === 1) {
      swipe = { x: e.touches[0].clientX, y: e.touches[0].clientY };
    }
  }, { passive: true });
  frame.addEventListener("touchmove", function (e) {
    if (pinch && e.touches.length === 2) {
      e.preventDefault();
      var s = Math.max(1, Math.min(4, pinch.s * distance(e.touches) / pinch.d));
      img.style.width = (s * 100) + "%";
      pinch.now = s;
    }
  }, { passive: false });
  frame.addEventListener("touchend", function (e) {
    if (pinch && e.touches.length < 2) {
      var s = pinch.now || pinch.s;
      pinch = null;
      zoom(s);
      return;
    }
    if (swipe && e.changedTouches.length === 1) {
      var dx = e.changedTouches[0].clientX - swipe.x, dy = e.changedTouches[0].clientY - swipe.y;
      swipe = null;
      if (Math.abs(dx) > 50 && Math.abs(dx) > 2 * Math.abs(dy)) { go(dx < 0 ? current + 1 : current - 1); }
    }
  });

  // A page that cannot be shown: the server's words, in the page.
  img.addEventListener("error", function () {
    var asked = img.getAttribute("src");
    fetch(asked, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      if (img.getAttribute("src") !== asked) { return; }
      var doc = new DOMParser().parseFromString(html, "text/html");
      var m = doc.getElementById("messaggio");
      problem.textContent = "Non è stato possibile mostrare la pagina " + current + ". " + (m ? m.textContent : "");
      problem.hidden = false;
    }).catch(function () {
      problem.textContent = "Non è stato possibile mostrare la pagina " + current + ": riprova più tardi.";
      problem.hidden = false;
    });
  });
  var resized;
  window.addEventListener("resize", function () {
    clearTimeout(resized);
    resized = setTimeout(show, 250);
  });
  show();
})();
