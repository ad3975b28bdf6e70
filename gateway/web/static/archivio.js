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
  // After the session expired: the files and folders of the upload that
  // was refused, sent again once the person has signed in (the file inputs
  // keep what was chosen; dropped files live only here), and a token that
  // belongs to the old session.
  var pending = null;
  var stale = false;

  // signedOut reports whether an answer says the session has ended: the
  // server answers this script 401 rather than a redirect to the sign-in.
  function signedOut(xhr) {
    return xhr.status === 401 || /\/_\/accedi(\?|$)/.test(xhr.responseURL || "");
  }

  function expired(files, dirs) {
    busy = false;
    stale = true;
    pending = { files: files, dirs: dirs };
    bar.hidden = true;
    label.textContent = "La sessione è scaduta: nessun file è stato salvato. ";
    var a = document.createElement("a");
    a.id = "accedi-di-nuovo";
    a.href = "/_/accedi?dopo=" + encodeURIComponent(window.location.pathname + window.location.search);
    a.target = "_blank";
    a.rel = "noopener";
    a.textContent = "Accedi di nuovo";
    label.appendChild(a);
    label.appendChild(document.createTextNode(" in un'altra scheda, poi torna qui e premi di nuovo «Carica»: i file scelti restano selezionati."));
  }

  // reason is the server's own words for a refused upload: the message of
  // its page (space used up, a file locked by whom), or the status.
  function reason(xhr) {
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var m = doc.getElementById("messaggio");
      if (m && m.textContent.trim() !== "") { return m.textContent.trim(); }
    } catch (e) { /* not a page: the status says it */ }
    return "errore " + xhr.status + ".";
  }

  // refresh takes the form's token of the new session from this page, then
  // goes on.
  function refresh(files, dirs, then) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", window.location.href);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.responseType = "document";
    xhr.onload = function () {
      var f = xhr.response && xhr.response.getElementById("modulo-carica");
      if (signedOut(xhr) || xhr.status !== 200 || !f) { expired(files, dirs); return; }
      csrf = f.elements["csrf"].value;
      stale = false;
      then();
    };
    xhr.onerror = function () { busy = false; label.textContent = "Caricamento interrotto"; };
    xhr.send();
  }

  // send uploads files, each {file, path} with path relative to this
  // folder, and creates the folders in dirs, empty ones included.
  function send(files, dirs) {
    if (busy || (files.length === 0 && dirs.length === 0)) return;
    busy = true;
    if (stale) {
      label.textContent = "Verifica dell'accesso…";
      refresh(files, dirs, function () { busy = false; send(files, dirs); });
      return;
    }
    var data = new FormData();
    data.append("csrf", csrf); // first: the server checks it before any file
    dirs.forEach(function (d) { data.append("cartella", d); });
    files.forEach(function (f) { data.append("file", f.file, f.path); });
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
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
      if (signedOut(xhr)) {
        expired(files, dirs);
      } else if (xhr.status >= 200 && xhr.status < 300) {
        pending = null;
        bar.value = 100;
        label.textContent = "Caricamento completato";
        window.location.href = xhr.responseURL || window.location.href;
      } else {
        label.textContent = "Caricamento non riuscito: " + reason(xhr);
      }
    };
    // A server that refuses a large upload at once may close the connection
    // before the browser reads its answer: ask whether the session lives.
    xhr.onerror = function () {
      refresh(files, dirs, function () { busy = false; label.textContent = "Caricamento interrotto"; });
    };
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
    if (files.length === 0 && pending) {
      send(pending.files, pending.dirs); // files dropped before the session expired
      return;
    }
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
