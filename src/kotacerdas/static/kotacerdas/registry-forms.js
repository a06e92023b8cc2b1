/* The household form: add blank member rows from the formset's empty form.
 * Without JavaScript the form still offers a fixed number of blank rows. */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-add-member-row]");
    var template = document.getElementById("member-row-template");
    var rows = document.getElementById("member-rows");
    if (!button || !template || !rows) return;
    var prefix = button.dataset.prefix;
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var maximum = Number(document.getElementById("id_" + prefix + "-MAX_NUM_FORMS").value);
    button.hidden = false;

    button.addEventListener("click", function () {
      var index = Number(total.value);
      if (index >= maximum) { button.disabled = true; return; }
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var fields = rows.lastElementChild.querySelectorAll("input, select");
      if (fields.length) fields[0].focus();
      if (index + 1 >= maximum) button.disabled = true;
    });
  });
})();
