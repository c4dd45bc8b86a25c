// modeltranslation puts a menu beside the form's title that opens every field's tab in one
// language. It gets a name a screen reader can announce (the template's words, translated),
// and its choices the languages' own names ("Cymraeg", not "cy"), as the tabs have; where
// there are no tabs to switch (the read-only view) it has no choices, and the stylesheet
// hides it (.modeltranslation-switch:empty), so nothing empty takes the focus.
(function () {
  "use strict";
  function name() {
    var label = document.getElementById("language-switch-label");
    var menu = document.getElementById("modeltranslation-main-switch");
    if (!label || !menu) return;
    menu.setAttribute("aria-labelledby", label.id);
    if (!menu.options.length) menu.hidden = true;
    Array.prototype.forEach.call(menu.options, function (option) {
      var code = option.textContent.trim();
      var own = document.querySelector("#language-tabs [data-code='" + code + "']");
      if (!own) return;
      option.textContent = own.textContent;
      option.lang = code;
      option.dataset.code = code;
    });
  }
  // After modeltranslation's own jQuery ready handler, which may run after "load" itself.
  window.addEventListener("load", function () {
    window.setTimeout(name, 0);
  });
})();
