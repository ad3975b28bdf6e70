// The record form's rows (applicants, addresses, parcels): one more, or
// one less, without a round trip. Without this script the form has one
// empty row of each, which saving fills; the server reads the rows by
// position, so a row is always added or removed whole.
(function () {
  "use strict";
  function renumber(set) {
    set.querySelectorAll(".riga").forEach(function (row, i) {
      row.querySelectorAll("[id]").forEach(function (el) {
        var old = el.id;
        el.id = old.replace(/-\d+$/, "-" + i);
        var label = row.querySelector('label[for="' + old + '"]');
        if (label) { label.htmlFor = el.id; }
      });
    });
  }
  function removeButton(set, row) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-outline-danger btn-sm togli-riga";
    b.textContent = "Togli";
    b.setAttribute("aria-label", "Togli questo " + set.dataset.voce);
    b.addEventListener("click", function () {
      if (set.querySelectorAll(".riga").length > 1) {
        row.remove();
      } else {
        row.querySelectorAll("input, select").forEach(function (el) { el.value = ""; });
      }
      renumber(set);
      set.querySelector(".aggiungi-riga").focus();
    });
    row.appendChild(b);
  }
  document.querySelectorAll("fieldset.righe").forEach(function (set) {
    set.querySelectorAll(".riga").forEach(function (row) { removeButton(set, row); });
    var add = document.createElement("button");
    add.type = "button";
    add.className = "btn btn-outline-primary btn-sm aggiungi-riga";
    add.textContent = "Aggiungi " + set.dataset.voce;
    add.addEventListener("click", function () {
      var rows = set.querySelectorAll(".riga");
      var last = rows[rows.length - 1];
      var row = last.cloneNode(true);
      row.querySelectorAll(".togli-riga").forEach(function (b) { b.remove(); });
      row.querySelectorAll("input, select").forEach(function (el) { el.value = ""; });
      last.after(row);
      removeButton(set, row);
      renumber(set);
      row.querySelector("input, select").focus();
    });
    set.appendChild(add);
  });
})();
