// Upload with a progress bar: the form still works without this script.
(function () {
  var form = document.getElementById("modulo-carica");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var bar = document.getElementById("avanzamento");
  var label = document.getElementById("avanzamento-testo");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    bar.hidden = false;
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) return;
      var pct = Math.round((e.loaded / e.total) * 100);
      bar.value = pct;
      label.textContent = "Caricamento: " + pct + "%";
    };
    xhr.onload = function () {
      if (xhr.status >= 200 && xhr.status < 300) {
        bar.value = 100;
        label.textContent = "Caricamento completato";
        window.location.href = xhr.responseURL || window.location.href;
      } else {
        label.textContent = "Caricamento non riuscito (" + xhr.status + ")";
      }
    };
    xhr.onerror = function () { label.textContent = "Caricamento interrotto"; };
    xhr.send(new FormData(form));
  });
})();
