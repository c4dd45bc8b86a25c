// The rich-text editors (django-prose-editor's, on Tiptap) for keyboard and screen reader users:
// - each editor is named by its field and language (its language tab: "Body, Cymraeg"; else its
//   label), described by the field's help text and error, and invalid where the field is;
// - its toolbar is a toolbar: one Tab stop, the arrow keys (and Home, End) go from button to
//   button, right to left in Arabic, past those that cannot be used just now, which say so
//   (aria-disabled) rather than only looking faint;
// - a button that turns formatting on and off says whether it is on (aria-pressed);
// - the menu of text styles says whether it is open (aria-expanded), opens with Enter, Space or
//   the down arrow, its styles are chosen with the arrow keys, and Escape closes it again.
// The words come from the template, translated (#rich-text-words).
(function () {
  "use strict";
  // The buttons that turn something on and off, by the names the editor gives its menu items.
  var TOGGLES = /^(bold|italic|underline|strike|subscript|superscript|code|highlight|bulletList|orderedList|blockquote|textAlign:.+|fullscreen)$/;
  var editors = new WeakMap(); // each .prose-editor, its Tiptap editor (from "prose-editor:ready")
  var made = 0;

  function idOf(element, prefix) {
    if (!element.id) element.id = prefix + "-" + ++made;
    return element.id;
  }

  function nameOf(box, area) {
    // The language tab around the field (jQuery UI names its panel by it), else the label.
    var panel = area.closest(".ui-tabs-panel[aria-labelledby]");
    if (panel && document.getElementById(panel.getAttribute("aria-labelledby"))) {
      return panel.getAttribute("aria-labelledby");
    }
    var label = area.id && document.querySelector("label[for='" + area.id + "']");
    return label ? idOf(label, "rich-text-label") : "";
  }

  function enhance(box) {
    var area = box.querySelector(":scope > textarea");
    var view = box.querySelector(":scope > .ProseMirror");
    if (!area || !view) return;
    var name = nameOf(box, area);
    if (name) view.setAttribute("aria-labelledby", name);
    view.setAttribute("aria-multiline", "true");
    ["aria-describedby", "aria-invalid"].forEach(function (attribute) {
      if (area.hasAttribute(attribute)) view.setAttribute(attribute, area.getAttribute(attribute));
    });
    var toolbar = box.querySelector(":scope > .prose-menubar");
    if (toolbar) {
      makeToolbar(toolbar, box, name);
    } else if (!box.dataset.awaitingToolbar) {
      // The editor adds its toolbar just after it says it is ready.
      box.dataset.awaitingToolbar = "1";
      var watch = new MutationObserver(function () {
        if (!box.querySelector(":scope > .prose-menubar")) return;
        watch.disconnect();
        enhance(box);
      });
      watch.observe(box, { childList: true });
    }
  }

  // The toolbar.

  function makeToolbar(toolbar, box, name) {
    var label = document.getElementById("rich-text-toolbar-label");
    toolbar.setAttribute("role", "toolbar");
    toolbar.setAttribute("aria-labelledby", [label ? label.id : "", name].join(" ").trim());
    if (!toolbar.dataset.keyboard) {
      toolbar.dataset.keyboard = "1";
      toolbar.addEventListener("keydown", keys);
      toolbar.addEventListener("focusin", function (event) {
        if (buttons(toolbar).indexOf(event.target) !== -1) {
          toolbar.chosen = event.target;
          stopAt(toolbar, event.target);
        }
      });
      // The editor changes its buttons as the cursor moves (and the style menu's own button with them).
      new MutationObserver(function () {
        update(toolbar, box);
      }).observe(toolbar, { subtree: true, childList: true, attributes: true, attributeFilter: ["class"] });
    }
    update(toolbar, box);
  }

  function buttons(toolbar) {
    return Array.prototype.filter.call(toolbar.querySelectorAll(".prose-menubar__button"), function (button) {
      return !button.closest(".prose-menubar__picker");
    });
  }

  function usable(toolbar) {
    return buttons(toolbar).filter(function (button) {
      return !button.classList.contains("hidden") && button.getAttribute("aria-disabled") !== "true";
    });
  }

  function isPressed(button, box) {
    var editor = editors.get(box);
    var name = button.dataset.name;
    // The editor's own marking, except for lists, which its bullet-list button never shows.
    if (editor && /^(bulletList|orderedList|blockquote)$/.test(name)) return editor.isActive(name);
    return button.classList.contains("active");
  }

  function update(toolbar, box) {
    buttons(toolbar).forEach(function (button) {
      if (button.classList.contains("disabled")) button.setAttribute("aria-disabled", "true");
      else button.removeAttribute("aria-disabled");
      if (TOGGLES.test(button.dataset.name || "")) {
        button.setAttribute("aria-pressed", isPressed(button, box) ? "true" : "false");
      }
    });
    toolbar.querySelectorAll(".prose-menubar__dropdown").forEach(makeMenu);
    // The Tab stop: the button last used, while it can be; else the first that can.
    var choices = usable(toolbar);
    stopAt(toolbar, choices.indexOf(toolbar.chosen) === -1 ? choices[0] : toolbar.chosen);
  }

  function stopAt(toolbar, stop) {
    buttons(toolbar).forEach(function (button) {
      button.setAttribute("tabindex", button === stop ? "0" : "-1");
    });
  }

  function keys(event) {
    var toolbar = event.currentTarget;
    if (event.target.closest(".prose-menubar__picker")) return;
    var choices = usable(toolbar);
    var index = choices.indexOf(event.target);
    if (index === -1) return;
    var backwards = getComputedStyle(toolbar).direction === "rtl";
    var next;
    if (event.key === "ArrowRight") next = choices[(index + (backwards ? -1 : 1) + choices.length) % choices.length];
    else if (event.key === "ArrowLeft") next = choices[(index + (backwards ? 1 : -1) + choices.length) % choices.length];
    else if (event.key === "Home") next = choices[0];
    else if (event.key === "End") next = choices[choices.length - 1];
    else if (event.key === "ArrowDown" && event.target.closest(".prose-menubar__selected")) {
      event.preventDefault();
      open(event.target.closest(".prose-menubar__dropdown"));
      return;
    } else return;
    event.preventDefault();
    toolbar.chosen = next;
    stopAt(toolbar, next);
    next.focus();
  }

  // The menu of text styles (paragraph, headings): a button showing the style in use, and its choices.

  function parts(dropdown) {
    var wrapper = dropdown.querySelector(".prose-menubar__selected");
    return {
      trigger: wrapper && wrapper.querySelector("button"),
      picker: dropdown.querySelector(".prose-menubar__picker"),
    };
  }

  function isOpen(picker) {
    try {
      return picker.matches(":popover-open");
    } catch (error) {
      return false;
    }
  }

  function makeMenu(dropdown) {
    var found = parts(dropdown);
    if (!found.trigger || !found.picker) return;
    var label = document.getElementById("rich-text-style-label");
    found.trigger.setAttribute("aria-labelledby", [label ? label.id : "", idOf(found.trigger, "rich-text-style")].join(" ").trim());
    found.trigger.setAttribute("aria-controls", idOf(found.picker, "rich-text-styles"));
    found.trigger.setAttribute("aria-expanded", isOpen(found.picker) ? "true" : "false");
    found.picker.querySelectorAll(".prose-menubar__option").forEach(function (option) {
      option.setAttribute("tabindex", "-1");
    });
    if (found.picker.dataset.keyboard) return;
    found.picker.dataset.keyboard = "1";
    // Said as it opens or closes (the event before, which comes at once), and once it is open,
    // the first style takes the focus.
    found.picker.addEventListener("beforetoggle", function (event) {
      var trigger = parts(dropdown).trigger;
      if (trigger) trigger.setAttribute("aria-expanded", event.newState === "open" ? "true" : "false");
    });
    found.picker.addEventListener("toggle", function (event) {
      if (event.newState === "open") {
        var first = options(found.picker)[0];
        if (first) first.focus();
      }
    });
    found.picker.addEventListener("keydown", function (event) {
      var choices = options(found.picker);
      var index = choices.indexOf(document.activeElement);
      var next;
      if (event.key === "ArrowDown") next = choices[(index + 1) % choices.length];
      else if (event.key === "ArrowUp") next = choices[(index - 1 + choices.length) % choices.length];
      else if (event.key === "Home") next = choices[0];
      else if (event.key === "End") next = choices[choices.length - 1];
      else if (event.key === "Escape" || event.key === "Tab") {
        event.preventDefault();
        found.picker.hidePopover();
        var trigger = parts(dropdown).trigger;
        if (trigger) trigger.focus();
        return;
      } else return;
      event.preventDefault();
      if (next) next.focus();
    });
  }

  function options(picker) {
    return Array.prototype.filter.call(picker.querySelectorAll(".prose-menubar__option"), function (option) {
      return !option.classList.contains("hidden");
    });
  }

  function open(dropdown) {
    var found = parts(dropdown);
    if (found.trigger && found.picker && !isOpen(found.picker)) found.trigger.click();
  }

  function enhanceAll() {
    document.querySelectorAll(".prose-editor").forEach(enhance);
  }

  document.addEventListener("prose-editor:ready", function (event) {
    var box = event.detail && event.detail.textarea && event.detail.textarea.closest(".prose-editor");
    if (!box) return;
    var editor = event.detail.editor;
    editors.set(box, editor);
    // Each change of the text or the cursor may turn a button on or off.
    editor.on("transaction", function () {
      var toolbar = box.querySelector(":scope > .prose-menubar");
      if (toolbar) update(toolbar, box);
    });
    enhance(box);
  });
  // The language tabs are made (and named) after some editors are ready.
  var jQuery = window.django && window.django.jQuery;
  if (jQuery) {
    jQuery(document).on("tabscreate", function (event) {
      event.target.querySelectorAll(".prose-editor").forEach(enhance);
    });
  }
  window.addEventListener("load", function () {
    window.setTimeout(enhanceAll, 0);
  });
})();
