// Each rich-text editor takes the language and direction of the field it edits (set on its
// textarea by the server), so that Welsh is marked Welsh and Arabic runs right to left.
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll("textarea[lang]").forEach(function (area) {
      // The editor's own text, not the menu of styles in its toolbar (a ".ProseMirror" too).
      var editor = area.parentElement && area.parentElement.querySelector(":scope > .ProseMirror");
      if (editor && (editor.getAttribute("lang") !== area.lang || editor.getAttribute("dir") !== area.dir)) {
        editor.setAttribute("lang", area.lang);
        editor.setAttribute("dir", area.dir);
      }
    });
  }
  new MutationObserver(mark).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", mark);
})();
