// A form that comes back with errors: every language tab holding one is marked, the tab of the
// first is opened, and each link of the summary at the top opens the tab of its field and
// puts the cursor there (the rich-text editor, for a section's body).
(function () {
  "use strict";
  function tabLinkFor(element) {
    var panel = element.closest("[id^='tab_']");
    return panel ? document.querySelector("a[href='#" + panel.id + "']") : null;
  }
  function focusable(field) {
    var editor = field.parentElement && field.parentElement.querySelector(".ProseMirror");
    return editor || field;
  }
  // After the language tabs are made (jQuery's ready handlers may run after "load" itself).
  window.addEventListener("load", function () {
    window.setTimeout(markErrors, 0);
  });

  function markErrors() {
    var summary = document.querySelector(".error-summary");
    if (!summary) return;
    var first = null;
    document.querySelectorAll(".errorlist:not(.nonfield)").forEach(function (list) {
      var link = tabLinkFor(list);
      if (link && !link.classList.contains("has-error")) {
        link.classList.add("has-error");
        var note = document.createElement("span");
        note.className = "visually-hidden tab-error"; // kept when js/language-tabs.js names the tab
        note.textContent = " (" + summary.dataset.tabError + ")";
        link.appendChild(note);
        first = first || link;
      }
    });
    if (first) first.click();
    summary.querySelectorAll("a[href^='#']").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var field = document.getElementById(link.getAttribute("href").slice(1));
        if (!field) return;
        event.preventDefault();
        var tab = tabLinkFor(field);
        if (tab) tab.click();
        var target = focusable(field);
        target.scrollIntoView({ block: "center" });
        target.focus();
      });
    });
    document.getElementById("error-summary-title").focus();
  }
})();
