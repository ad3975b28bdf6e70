// Uploads from the archive page: files, a whole folder, or files and
// folders dropped on the page, sent as one streamed form with a progress
// bar. The form still works without this script.
(function () {
  var form = document.getElementById("modulo-carica");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var bar = document.getElementById("avanzamento");
  var label = document.getElementById("avanzamento-testo");
  var zone = document.getElementById("zona-rilascio");
  var csrf = form.elements["csrf"].value;
  var busy = false;

  // send uploads files, each {file, path} with path relative to this
  // folder, and creates the folders in dirs, empty ones included.
  function send(files, dirs) {
    if (busy || (files.length === 0 && dirs.length === 0)) return;
    busy = true;
    var data = new FormData();
    data.append("csrf", csrf); // first: the server checks it before any file
    dirs.forEach(function (d) { data.append("cartella", d); });
    files.forEach(function (f) { data.append("file", f.file, f.path); });
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    bar.hidden = false;
    bar.value = 0;
    label.textContent = "Caricamento di " + files.length + " file…";
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) return;
      var pct = Math.round((e.loaded / e.total) * 100);
      bar.value = pct;
      label.textContent = "Caricamento: " + pct + "%";
    };
    xhr.onload = function () {
      busy = false;
      if (xhr.status >= 200 && xhr.status < 300) {
        bar.value = 100;
        label.textContent = "Caricamento completato";
        window.location.href = xhr.responseURL || window.location.href;
      } else {
        label.textContent = "Caricamento non riuscito (" + xhr.status + ")";
      }
    };
    xhr.onerror = function () { busy = false; label.textContent = "Caricamento interrotto"; };
    xhr.send(data);
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var files = [];
    Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) {
      Array.prototype.forEach.call(input.files, function (f) {
        files.push({ file: f, path: f.webkitRelativePath || f.name });
      });
    });
    send(files, []);
  });

  // A dropped folder is read entry by entry; readEntries returns a batch at
  // a time and an empty one at the end.
  function walk(entry, files, dirs, done) {
    var rel = entry.fullPath.replace(/^\/+/, "");
    if (entry.isFile) {
      entry.file(function (f) { files.push({ file: f, path: rel }); done(); }, done);
      return;
    }
    dirs.push(rel);
    var reader = entry.createReader();
    var children = [];
    (function more() {
      reader.readEntries(function (batch) {
        if (batch.length > 0) {
          children = children.concat(Array.prototype.slice.call(batch));
          more();
          return;
        }
        var left = children.length;
        if (left === 0) { done(); return; }
        children.forEach(function (c) { walk(c, files, dirs, function () { if (--left === 0) done(); }); });
      }, done);
    })();
  }

  if (!zone) return;
  zone.hidden = false;
  var page = document.body;
  page.addEventListener("dragover", function (ev) {
    ev.preventDefault();
    ev.dataTransfer.dropEffect = "copy";
    zone.classList.add("sopra");
  });
  page.addEventListener("dragleave", function () { zone.classList.remove("sopra"); });
  page.addEventListener("drop", function (ev) {
    ev.preventDefault();
    zone.classList.remove("sopra");
    var dt = ev.dataTransfer;
    var entries = [];
    if (dt.items) {
      Array.prototype.forEach.call(dt.items, function (it) {
        var e = it.kind === "file" && it.webkitGetAsEntry ? it.webkitGetAsEntry() : null;
        if (e) entries.push(e);
      });
    }
    if (entries.length === 0) {
      send(Array.prototype.map.call(dt.files, function (f) { return { file: f, path: f.name }; }), []);
      return;
    }
    var files = [], dirs = [], left = entries.length;
    label.textContent = "Lettura dei file trascinati…";
    entries.forEach(function (e) {
      walk(e, files, dirs, function () { if (--left === 0) send(files, dirs); });
    });
  });
})();
