// Django's autocomplete fields (select2: a page's parent, its related pages, the parent a page
// moves under). Their label names the <select>, which select2 hides; what takes the keyboard is
// select2's own box, and for a choice of several its search field, and neither had a name. Both
// are named by the field's label here (a single choice also by the page chosen), the box's
// inner text loses a role of "textbox" it never was, and the × that clears every choice at a
// click is left out for screen readers (the keyboard clears with Backspace) and out of the list
// of choices, which may hold only its items.
(function () {
  "use strict";
  function labelOf(select) {
    var label = select.id && document.querySelector("label[for='" + select.id + "']");
    if (!label) return "";
    if (!label.id) label.id = select.id + "_label";
    return label.id;
  }

  function name(select, container) {
    var label = labelOf(select);
    if (!label) return;
    var box = container.querySelector(".select2-selection");
    var shown = container.querySelector(".select2-selection--single .select2-selection__rendered[id]");
    if (box) box.setAttribute("aria-labelledby", shown ? label + " " + shown.id : label);
    if (shown && shown.getAttribute("role") === "textbox") {
      shown.removeAttribute("role");
      shown.removeAttribute("aria-readonly");
    }
    var search = container.querySelector(".select2-search__field");
    if (search && search.getAttribute("aria-labelledby") !== label) search.setAttribute("aria-labelledby", label);
    var several = container.querySelector(".select2-selection--multiple");
    if (several && !several.querySelector(".select2-selection__choice")) {
      // Every choice removed: select2 adds no new × (and would have removed its old one).
      several.querySelectorAll(":scope > .select2-selection__clear").forEach(function (old) {
        old.remove();
      });
    }
    container.querySelectorAll(".select2-selection__clear").forEach(function (clear) {
      clear.setAttribute("aria-hidden", "true");
      var list = clear.parentElement;
      if (list && list.tagName === "UL") {
        // Just before the list, where select2's own handler (on the whole box) still hears it;
        // select2 adds a new one into the list at each change, so the old one goes.
        list.parentElement.querySelectorAll(":scope > .select2-selection__clear").forEach(function (old) {
          old.remove();
        });
        list.before(clear);
      }
    });
  }

  function enhance(select) {
    var container = select.nextElementSibling; // select2 puts its box right after the <select>
    if (!container || !container.classList.contains("select2") || container.dataset.named) return;
    container.dataset.named = "1";
    name(select, container);
    // select2 writes its box again at each choice made or removed.
    new MutationObserver(function () {
      name(select, container);
    }).observe(container, { childList: true, subtree: true });
  }

  function enhanceAll() {
    document.querySelectorAll("select.admin-autocomplete").forEach(enhance);
  }

  window.addEventListener("load", function () {
    window.setTimeout(enhanceAll, 0);
  });
  document.addEventListener("formset:added", function () {
    window.setTimeout(enhanceAll, 0);
  });
})();
