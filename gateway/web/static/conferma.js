// Asks before a form that cannot be undone, such as a delete, is sent.
(function () {
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute && ev.target.getAttribute("data-conferma");
    if (msg && !window.confirm(msg)) ev.preventDefault();
  }, true);
})();
