// modeltranslation shows each field's languages as tabs (jQuery UI's). As they come, the list
// item is the tab (role "tab") and holds the link, an interactive control inside another, and
// each tab is named only "en", "cy" or "ar", whichever field it belongs to. Here the link
// itself becomes the tab, shows the language's own name ("Cymraeg") and is named with its
// field's ("Title, Cymraeg"), and the list items are left as mere layout. The keyboard works
// as tabs do: one Tab stop per field, the arrow keys (and Home, End) move between its
// languages, opening each, right to left in Arabic.
//
// The words come from the template, translated (#language-tabs): the pattern of a tab's name,
// and each language's own name.
(function () {
  "use strict";
  var words = null;

  function wordsOnPage() {
    if (words) return words;
    var source = document.getElementById("language-tabs");
    if (!source) return null;
    var names = {};
    source.querySelectorAll("[data-code]").forEach(function (name) {
      names[name.dataset.code] = name;
    });
    words = { pattern: source.dataset.tabName, names: names };
    return words;
  }

  function codeOf(panel) {
    // The field's class says its language: "mt-field-title-cy", "mt-field-body-zh_hans".
    var field = panel.querySelector(".mt");
    var match = field && /(?:^| )mt-field-[^ ]+?-([a-z]+(?:_[a-z]+)?)(?: |$)/.exec(field.className);
    return match ? match[1].replace("_", "-") : "";
  }

  function fieldName(panel) {
    var label = panel.querySelector("label");
    return label ? label.textContent.replace(/[\s:：]+$/, "").trim() : "";
  }

  // "%(field)s, %(language)s", the field's name hidden (it is in the label beside the tabs),
  // the language's shown, in its own language.
  function nameTab(link, panel) {
    var found = wordsOnPage();
    var code = codeOf(panel);
    var own = found && found.names[code];
    if (!found || !own || link.dataset.named === code) return;
    // The words before the language and after it, each in one hidden piece (so that no space
    // comes into the name between the field's name and the comma).
    var around = found.pattern.split("%(language)s");
    var note = link.querySelector(".visually-hidden.tab-error"); // form-errors.js's "(has an error)"
    link.textContent = "";
    around.forEach(function (words, index) {
      if (index > 0) {
        var name = own.cloneNode(true);
        name.removeAttribute("data-code");
        link.appendChild(name);
      }
      words = words.replace("%(field)s", fieldName(panel));
      if (!words) return;
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = words;
      link.appendChild(hidden);
    });
    if (note) link.appendChild(note);
    link.dataset.named = code;
    link.removeAttribute("title");
  }

  function enhance(container) {
    var list = container.querySelector(":scope > ul");
    if (!list) return;
    var links = [];
    list.setAttribute("role", "tablist");
    Array.prototype.forEach.call(list.children, function (item) {
      var link = item.querySelector("a[href^='#']");
      if (!link) return;
      var panel = document.getElementById(link.getAttribute("href").slice(1));
      var selected = item.classList.contains("ui-tabs-active");
      // The list item is layout only: jQuery UI put the tab's role and state on it.
      item.setAttribute("role", "presentation");
      ["tabindex", "aria-controls", "aria-labelledby", "aria-selected", "aria-expanded"].forEach(function (name) {
        item.removeAttribute(name);
      });
      link.setAttribute("role", "tab");
      link.setAttribute("aria-selected", selected ? "true" : "false");
      link.setAttribute("tabindex", selected ? "0" : "-1");
      if (panel) {
        link.setAttribute("aria-controls", panel.id);
        panel.setAttribute("role", "tabpanel");
        panel.setAttribute("aria-labelledby", link.id);
        nameTab(link, panel);
      }
      if (!link.dataset.keyboard) {
        link.dataset.keyboard = "1";
        link.addEventListener("keydown", move);
      }
      links.push(link);
    });
    var first = links[0] && document.getElementById(links[0].getAttribute("aria-controls"));
    if (first && fieldName(first)) list.setAttribute("aria-label", fieldName(first));
  }

  function move(event) {
    var link = event.currentTarget;
    var list = link.closest("[role=tablist]");
    var links = Array.prototype.slice.call(list.querySelectorAll("a[role=tab]"));
    var index = links.indexOf(link);
    var backwards = getComputedStyle(list).direction === "rtl";
    var next = null;
    switch (event.key) {
      case "ArrowRight":
        next = links[(index + (backwards ? -1 : 1) + links.length) % links.length];
        break;
      case "ArrowLeft":
        next = links[(index + (backwards ? 1 : -1) + links.length) % links.length];
        break;
      case "Home":
        next = links[0];
        break;
      case "End":
        next = links[links.length - 1];
        break;
      case " ":
      case "Enter":
        next = link;
        break;
      default:
        return;
    }
    // Handled here, not by jQuery UI's own keys (which would move the focus to the list item).
    event.preventDefault();
    event.stopPropagation();
    next.focus();
    if (next.getAttribute("aria-selected") !== "true") next.click();
  }

  function enhanceAll() {
    document.querySelectorAll(".ui-tabs").forEach(enhance);
  }

  // jQuery UI says when tabs are made: its events are jQuery's own, so they are heard through jQuery.
  var jQuery = window.django && window.django.jQuery;
  if (jQuery) {
    jQuery(document).on("tabscreate", function (event) {
      enhance(event.target);
    });
    // jQuery UI's own way of extending a widget, before modeltranslation makes the tabs (in a
    // ready handler of its own, run after this one): it finds a tab's panel by the list item's
    // aria-controls, which is the link's now, and when another tab opens it marks the list
    // items again (after saying so), so they are put right once it has.
    jQuery(function () {
      if (!jQuery.ui || !jQuery.ui.tabs) return;
      jQuery.widget("ui.tabs", jQuery.ui.tabs, {
        _getPanelForTab: function (tab) {
          var id = jQuery(tab).attr("aria-controls") || jQuery(tab).find(".ui-tabs-anchor").attr("aria-controls");
          return this.element.find("#" + CSS.escape(id || ""));
        },
        _toggle: function (event, eventData) {
          this._super(event, eventData);
          enhance(this.element[0]);
        },
      });
    });
  }
  window.addEventListener("load", function () {
    window.setTimeout(enhanceAll, 0);
  });
})();
