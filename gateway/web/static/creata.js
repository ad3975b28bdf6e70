// The new app password's page: a button that copies the password, and the
// person's own system's instructions first, open, the others one click
// away. Without this script every system's are shown, in a fixed order.
(function () {
  "use strict";
  var button = document.getElementById("copia");
  var said = document.getElementById("copia-esito");
  if (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var field = document.getElementById(button.dataset.copia);
      function done() { said.textContent = "Password copiata"; }
      function fallback() {
        field.select();
        try { document.execCommand("copy"); done(); } catch (e) { said.textContent = "Seleziona la password e copiala"; }
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, fallback);
      } else {
        fallback();
      }
    });
  }
  var ua = navigator.userAgent;
  var mine = /iPad|iPhone/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1) ? "ipad"
    : /Windows/.test(ua) ? "windows"
    : /Macintosh|Mac OS X/.test(ua) ? "macos"
    : /Linux|X11/.test(ua) ? "linux" : "";
  var list = document.getElementById("sistemi");
  var own = mine && document.getElementById("sistema-" + mine);
  if (!list || !own) { return; }
  list.prepend(own);
  list.querySelectorAll("details.sistema").forEach(function (d) { d.open = d === own; });
})();
