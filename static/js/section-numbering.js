// A section added with "Add another section" is numbered after the last one, so that it
// lands at the end of the page rather than at position 0, before all the others.
(function () {
  "use strict";
  document.addEventListener("formset:added", function (event) {
    if (!event.detail || event.detail.formsetName !== "sections") return;
    var added = event.target.querySelector("input[name$='-position']");
    if (!added) return;
    var last = -1;
    document.querySelectorAll("#sections-group input[name^='sections-'][name$='-position']").forEach(function (field) {
      if (field === added || field.name.indexOf("__prefix__") !== -1) return;
      var number = parseInt(field.value, 10);
      if (!isNaN(number) && number > last) last = number;
    });
    added.value = String(last + 1);
  });
})();
