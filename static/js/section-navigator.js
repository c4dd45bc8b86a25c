// The list of a page's sections at the top of its form, each leading to its section: a long
// page's form runs to many screens. Built from the section forms themselves, so that it follows
// the headings as they are typed and the sections as they are added or removed; without
// JavaScript it stays hidden, and the form is as it always was.
//
// Each section is named by its heading in the admin's language, else in the source language
// (marked as such), else "Section N". The words come from the template, translated.
(function () {
  "use strict";
  var navigator, list, count;

  function headingIn(section, code) {
    var field = section.querySelector("input[name$='-heading_" + code + "']");
    if (field) return field.value.trim();
    var shown = section.querySelector(".field-heading_" + code + " .readonly [lang]"); // the read-only view
    return shown ? shown.textContent.trim() : "";
  }

  function sections() {
    return Array.prototype.filter.call(
      document.querySelectorAll("#sections-group .inline-related[id^='sections-']"),
      function (section) {
        return !section.classList.contains("empty-form") && /^sections-\d+$/.test(section.id);
      }
    );
  }

  function build() {
    var own = navigator.dataset.language;
    var source = navigator.dataset.sourceLanguage;
    var found = sections();
    list.textContent = "";
    found.forEach(function (section, index) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#" + section.id;
      var heading = headingIn(section, own);
      var language = own;
      if (!heading && source !== own) {
        heading = headingIn(section, source);
        language = source;
      }
      if (heading) {
        var name = document.createElement("span");
        name.textContent = heading;
        name.lang = language;
        name.dir = "auto";
        link.appendChild(name);
      } else {
        link.textContent = navigator.dataset.untitled.replace("%(number)s", String(index + 1));
      }
      item.appendChild(link);
      list.appendChild(item);
    });
    count.textContent = found.length ? " (" + found.length + ")" : "";
    navigator.hidden = found.length === 0;
  }

  function go(event) {
    var link = event.target.closest("a[href^='#sections-']");
    if (!link) return;
    var section = document.getElementById(link.getAttribute("href").slice(1));
    if (!section) return;
    event.preventDefault();
    navigator.querySelector("details").open = false;
    // The section's title takes the focus, so that the keyboard carries on from there.
    var title = section.querySelector("h3") || section;
    title.setAttribute("tabindex", "-1");
    title.focus({ preventScroll: true });
    section.scrollIntoView({ block: "start" });
    history.replaceState(null, "", link.getAttribute("href"));
  }

  function closeOnEscape(event) {
    var details = navigator.querySelector("details");
    if (event.key === "Escape" && details.open) {
      details.open = false;
      details.querySelector("summary").focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    navigator = document.getElementById("section-navigator");
    if (!navigator) return;
    list = navigator.querySelector("ol");
    count = navigator.querySelector(".section-count");
    navigator.addEventListener("click", go);
    navigator.addEventListener("keydown", closeOnEscape);
    build();
    var group = document.getElementById("sections-group");
    if (group) {
      group.addEventListener("input", function (event) {
        if (/-heading_/.test(event.target.name || "")) build();
      });
    }
    document.addEventListener("formset:added", build);
    document.addEventListener("formset:removed", build);
  });
})();
