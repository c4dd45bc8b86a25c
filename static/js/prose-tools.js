// The section editor's own tools, loaded by django-prose-editor's configurable preset
// (settings.DJANGO_PROSE_EDITOR_EXTENSIONS; pages/fields.py turns them on):
//
// - SiteLink: the editor's Link, whose dialog finds pages of this site by a title in any language
//   or by address and stores the one chosen as "page:<id>", as pasting its address does.
// - GlossaryTerm: a toolbar button that makes the selected words a glossary term,
//   <a href="term:name" title="definition">, choosing a term (and a definition) the live site
//   already uses in the field's language, or a new one.
//
// The server (pages/picker.py) answers the searches and gives the dialogs' words in the admin's
// language. The dialogs are modal <dialog>s: focus goes into them and back to the editor,
// Escape closes them, and everything works from the keyboard.
import { crel, Extension, Link } from "django-prose-editor/editor"

const TERM_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/
const PAGE_REFERENCE = /^page:([1-9][0-9]*)$/

// The dialogs' words, once per address (each editor of the form asks for the same ones).
const wordsByUrl = new Map()

async function getJSON(url, params = {}, signal = undefined) {
  const response = await fetch(`${url}?${new URLSearchParams(params)}`, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
    signal,
  })
  let body = null
  try {
    body = await response.json()
  } catch (_error) {
    // A refusal from before the view (a 400 for a NUL character) is plain text.
  }
  if (!response.ok || body === null) throw new Error(body?.error || "")
  return body
}

function loadWords(url) {
  if (!wordsByUrl.has(url)) {
    wordsByUrl.set(
      url,
      getJSON(url).catch((error) => {
        wordsByUrl.delete(url) // asked again next time
        throw error
      }),
    )
  }
  return wordsByUrl.get(url)
}

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_match, name) => String(values[name] ?? ""))
}

// The same, with elements for the values (words in their own language and direction), wherever
// the sentence, in the admin's language, puts them.
function formatNodes(template, values) {
  return template.split(/(%\(\w+\)s)/).map((part) => {
    const name = /^%\((\w+)\)s$/.exec(part)?.[1]
    return name && name in values ? values[name] : part
  })
}

// The language and direction of the field this editor edits (set on its textarea by the server).
function fieldOf(editor) {
  const area = editor.view.dom.parentElement?.querySelector("textarea")
  return {
    lang: area?.getAttribute("lang") || "",
    dir: area?.getAttribute("dir") || "ltr",
  }
}

function isTermLink(editor) {
  return editor.isActive("link") && /^term:/.test(editor.getAttributes("link").href || "")
}

function glossaryOptions(editor) {
  return editor.extensionManager.extensions.find((extension) => extension.name === "glossaryTerm")?.options
}

function selectedText(editor) {
  const { from, to } = editor.state.selection
  return editor.state.doc.textBetween(from, to, " ").trim()
}

// An address of this site pasted whole (https://this-site/cy/a/b/) is kept as its path, which
// the server turns into the page's reference on saving, as it does a path typed.
function onThisSite(href) {
  try {
    const url = new URL(href)
    if (url.origin === window.location.origin) return `${url.pathname}${url.search}${url.hash}`
  } catch (_error) {
    // Not a whole address: kept as it is.
  }
  return href
}

function setLink(editor, attrs, wasLink) {
  const chain = editor.chain().focus()
  if (wasLink) chain.extendMarkRange("link").updateAttributes("link", attrs).run()
  else chain.setMark("link", attrs).run()
}

function removeLink(editor) {
  editor.chain().focus().extendMarkRange("link").unsetLink().run()
}

let dialogs = 0
let openDialog = null

// A modal dialog: a heading, a form, and its buttons (the first submits). Closing it, by a
// button or Escape, removes it and gives the editor the focus back.
function dialogShell(editor, { title, buttons }) {
  const prefix = `prose-tools-${++dialogs}-`
  const form = crel("form", { method: "dialog", noValidate: true })
  const dialog = crel("dialog", { className: "prose-editor-dialog prose-tools-dialog", "aria-labelledby": `${prefix}title` }, [
    crel("h2", { id: `${prefix}title`, className: "prose-editor-dialog-title", textContent: title }),
    form,
  ])
  const row = crel("div", { className: "prose-editor-dialog-buttons prose-tools-buttons" })
  const made = buttons.map(({ text, submit, handler }) => {
    const button = crel("button", { type: submit ? "submit" : "button", textContent: text })
    if (handler) button.addEventListener("click", handler)
    row.append(button)
    return button
  })
  dialog.addEventListener("keydown", (event) => {
    // Also from a search field, where the browser would first empty the field.
    if (event.key === "Escape") {
      event.preventDefault()
      dialog.close()
    }
  })
  dialog.addEventListener("close", () => {
    dialog.remove()
    openDialog = null
    editor.commands.focus()
  })
  return {
    prefix,
    form,
    dialog,
    buttons: made,
    show() {
      form.append(row)
      document.body.append(dialog)
      openDialog = dialog
      dialog.showModal()
    },
  }
}

// A labelled field with its help: the help is the field's description.
function field({ id, label, help, control }) {
  control.id = id
  const parts = [crel("label", { htmlFor: id, textContent: label })]
  if (help) {
    parts.push(crel("p", { id: `${id}-help`, className: "prose-tools-help", textContent: help }))
    control.setAttribute("aria-describedby", `${id}-help`)
  }
  parts.push(control)
  return crel("div", { className: "prose-editor-dialog-field" }, parts)
}

// A search field with its results, a list of buttons: typing searches (after a pause), Enter
// searches at once, the arrow keys go from the field to the results and among them.
function searchList({ prefix, search, label, run, render, failed }) {
  const status = crel("p", { className: "prose-tools-status", role: "status" })
  const list = crel("ul", { id: `${prefix}results`, className: "prose-tools-results", hidden: true, "aria-label": label })
  search.setAttribute("aria-controls", list.id)
  let timer = null
  let controller = null
  let asked = null

  const buttons = () => [...list.querySelectorAll("button")]
  async function find(now = false) {
    clearTimeout(timer)
    if (!now) {
      timer = setTimeout(() => find(true), 250)
      return
    }
    const query = search.value.trim()
    if (query === asked) return
    asked = query
    controller?.abort()
    controller = new AbortController()
    try {
      const found = await run(query, controller.signal, status)
      list.replaceChildren(...found.map((item) => crel("li", {}, [render(item)])))
      list.hidden = found.length === 0
    } catch (error) {
      if (error.name === "AbortError") return
      asked = null
      list.replaceChildren()
      list.hidden = true
      status.textContent = error.message || failed
      status.dataset.failed = "true"
    }
  }
  search.addEventListener("input", () => find())
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault()
      find(true)
    } else if (event.key === "ArrowDown" && buttons().length) {
      event.preventDefault()
      buttons()[0].focus()
    }
  })
  list.addEventListener("keydown", (event) => {
    const all = buttons()
    const at = all.indexOf(document.activeElement)
    if (at === -1) return
    if (event.key === "ArrowDown") {
      event.preventDefault()
      all[Math.min(at + 1, all.length - 1)].focus()
    } else if (event.key === "ArrowUp") {
      event.preventDefault()
      ;(at === 0 ? search : all[at - 1]).focus()
    }
  })
  return { status, list, find }
}

function markChosen(list, button) {
  for (const other of list.querySelectorAll("[aria-current]")) other.removeAttribute("aria-current")
  button?.setAttribute("aria-current", "true")
}

// The link dialog

async function openLinkDialog(editor, options) {
  if (openDialog) return
  const { strings: t, languages: names } = await loadWords(options.stringsUrl)
  const language = fieldOf(editor).lang
  const wasLink = editor.isActive("link")
  const current = wasLink ? editor.getAttributes("link") : {}
  let chosen = null

  const shell = dialogShell(editor, {
    title: t.linkTitle,
    buttons: [
      { text: t.saveLink, submit: true },
      ...(wasLink
        ? [
            {
              text: t.removeLink,
              handler() {
                shell.dialog.close()
                removeLink(editor)
              },
            },
          ]
        : []),
      { text: t.cancel, handler: () => shell.dialog.close() },
    ],
  })
  const { prefix, form } = shell

  const search = crel("input", { type: "search", autocomplete: "off", spellcheck: false, dir: "auto", autofocus: true })
  const address = crel("input", { type: "text", autocomplete: "off", spellcheck: false, dir: "ltr", value: current.href || "" })
  // Which page the link leads to, said (aria-live) when one is chosen.
  const linksTo = crel("p", { className: "prose-tools-chosen", id: `${prefix}chosen`, "aria-live": "polite" })

  function describe(page) {
    const sentence = formatNodes(t.linksTo, {
      title: crel("bdi", { lang: page.title_language, textContent: page.title }),
      address: crel("bdi", { dir: "ltr", className: "prose-tools-address", textContent: page.address }),
    })
    linksTo.replaceChildren(...sentence, ...(page.is_live ? [] : [" ", t.notLiveChosen]))
  }
  function choose(page, button) {
    chosen = page
    address.value = `page:${page.id}`
    address.setCustomValidity("")
    describe(page)
    markChosen(results.list, button)
    shell.buttons[0].focus()
  }
  function render(page) {
    const parts = [crel("span", { className: "prose-tools-result-title", lang: page.title_language, dir: "auto", textContent: page.title })]
    if (page.title_language !== results.shownIn) {
      const name = names[page.title_language]?.name || page.title_language
      parts.push(crel("span", { className: "prose-tools-note", textContent: ` (${format(t.titleIn, { language: name })})` }))
    }
    // The title the words were found in, when it is another language's.
    const wanted = search.value.trim().toLocaleLowerCase()
    const also = Object.entries(page.titles).find(
      ([code, title]) => code !== page.title_language && wanted && title.toLocaleLowerCase().includes(wanted),
    )
    if (also) {
      parts.push(crel("span", { className: "prose-tools-result-also", lang: also[0], dir: "auto", textContent: also[1] }))
    }
    parts.push(
      crel("span", { className: "prose-tools-result-meta" }, [
        crel("span", { className: "prose-tools-address", dir: "ltr", textContent: page.address }),
        " · ",
        crel("span", {
          className: page.is_live ? "prose-tools-live" : "prose-tools-not-live",
          textContent: page.is_live ? t.live : t.notLive,
        }),
      ]),
    )
    const button = crel("button", { type: "button", className: "prose-tools-result" }, parts)
    if (chosen?.id === page.id) button.setAttribute("aria-current", "true")
    button.addEventListener("click", () => choose(page, button))
    return button
  }
  const results = searchList({
    prefix,
    search,
    label: t.pagesFound,
    failed: t.searchFailed,
    render,
    async run(query, signal, status) {
      if (!query) {
        status.textContent = ""
        return []
      }
      status.textContent = t.searching
      delete status.dataset.failed
      const answer = await getJSON(options.pagesUrl, { q: query, lang: language }, signal)
      results.shownIn = answer.shown_in
      status.textContent = answer.pages.length ? format(t.pagesCount, { count: answer.pages.length }) : t.noPages
      if (answer.more) status.textContent += ` ${format(t.morePages, { count: answer.pages.length })}`
      return answer.pages
    },
  })
  address.addEventListener("input", () => {
    address.setCustomValidity("")
    if (!chosen || address.value.trim() !== `page:${chosen.id}`) {
      chosen = null
      linksTo.textContent = ""
      markChosen(results.list, null)
    }
  })

  form.append(
    field({ id: `${prefix}search`, label: t.findPage, help: t.findPageHelp, control: search }),
    results.status,
    results.list,
    field({ id: `${prefix}address`, label: t.address, help: t.addressHelp, control: address }),
    linksTo,
  )
  address.setAttribute("aria-describedby", `${prefix}address-help ${linksTo.id}`)
  form.addEventListener("submit", (event) => {
    event.preventDefault()
    const href = onThisSite(address.value.trim())
    if (!href) {
      address.setCustomValidity(t.needAddress)
      address.reportValidity()
      return
    }
    shell.dialog.close()
    setLink(editor, { href }, wasLink)
  })

  shell.show()
  const reference = PAGE_REFERENCE.exec(current.href || "")
  if (reference) {
    // Say which page the link leads to now.
    getJSON(options.pagesUrl, { q: current.href, lang: language })
      .then(({ pages }) => {
        if (pages.length) {
          chosen = pages[0]
          describe(pages[0])
        } else {
          linksTo.textContent = format(t.noSuchPage, { id: reference[1] })
        }
      })
      .catch(() => {})
  } else if (!wasLink) {
    // The words linked are often the page's title: they are searched for at once.
    const words = selectedText(editor)
    if (words && words.length <= 100) {
      search.value = words
      search.select()
      results.find(true)
    }
  }
}

export const SiteLink = Link.extend({
  addOptions() {
    return {
      ...this.parent?.(),
      pagesUrl: "",
      stringsUrl: "",
    }
  },

  onCreate() {
    this.parent?.()
    loadWords(this.options.stringsUrl).catch(() => {})
  },

  addCommands() {
    return {
      ...this.parent?.(),
      addLink:
        () =>
        ({ editor }) => {
          if (editor.state.selection.empty && !editor.isActive("link")) return false
          const glossary = glossaryOptions(editor)
          if (glossary && isTermLink(editor)) openTermDialog(editor, glossary)
          else openLinkDialog(editor, this.options)
          return true
        },
    }
  },
})

// The glossary term dialog

function nameFor(words) {
  return words
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "")
}

async function openTermDialog(editor, options) {
  if (openDialog) return
  const { strings: t, languages: names } = await loadWords(options.stringsUrl)
  const { lang, dir } = fieldOf(editor)
  const languageName = names[lang]?.name || lang
  const wasTerm = isTermLink(editor)
  if (wasTerm) editor.commands.extendMarkRange("link")
  const current = wasTerm ? editor.getAttributes("link") : {}
  const words = selectedText(editor)

  const shell = dialogShell(editor, {
    title: t.termTitle,
    buttons: [
      { text: t.saveTerm, submit: true },
      ...(wasTerm
        ? [
            {
              text: t.removeTerm,
              handler() {
                shell.dialog.close()
                removeLink(editor)
              },
            },
          ]
        : []),
      { text: t.cancel, handler: () => shell.dialog.close() },
    ],
  })
  const { prefix, form } = shell

  const search = crel("input", { type: "search", autocomplete: "off", lang, dir: "auto", autofocus: !wasTerm })
  const name = crel("input", {
    type: "text",
    autocomplete: "off",
    spellcheck: false,
    dir: "ltr",
    required: true,
    value: wasTerm ? current.href.slice("term:".length) : nameFor(words),
  })
  name.setAttribute("autocapitalize", "none")
  const definition = crel("textarea", { rows: 3, lang, dir, required: true, autofocus: wasTerm, value: current.title || "" })

  // The definitions a chosen term already has in this language.
  const legend = crel("legend")
  const definitions = crel("ul", { className: "prose-tools-definitions" })
  const offered = crel("fieldset", { className: "prose-tools-offered", hidden: true }, [
    legend,
    crel("p", { className: "prose-tools-help", textContent: t.definitionsHelp }),
    definitions,
  ])
  let shown = null

  function offer(term) {
    shown = term.name
    legend.textContent = format(t.definitionsOf, { name: term.name, language: languageName })
    definitions.replaceChildren(
      ...term.definitions.map((known) => {
        const button = crel("button", { type: "button", className: "prose-tools-definition" }, [
          crel("span", { lang, dir, textContent: known.text }),
          crel("span", { className: "prose-tools-note", textContent: ` (${format(t.definitionUses, { count: known.uses })})` }),
        ])
        if (known.text === definition.value.trim()) button.setAttribute("aria-current", "true")
        button.addEventListener("click", () => {
          definition.value = known.text
          definition.setCustomValidity("")
          markChosen(definitions, button)
          definition.focus()
          definition.setSelectionRange(definition.value.length, definition.value.length)
        })
        return crel("li", {}, [button])
      }),
    )
    offered.hidden = term.definitions.length === 0
  }
  function choose(term, button) {
    name.value = term.name
    name.setCustomValidity("")
    markChosen(results.list, button)
    offer(term)
    ;(definitions.querySelector("button") || definition).focus()
  }
  function render(term) {
    const parts = [crel("span", { className: "prose-tools-result-title", dir: "ltr", textContent: term.name })]
    if (term.words.length) {
      parts.push(crel("span", { className: "prose-tools-result-also", lang, dir: "auto", textContent: term.words.join(", ") }))
    }
    parts.push(crel("span", { className: "prose-tools-result-meta", textContent: format(t.termUses, { count: term.uses }) }))
    const button = crel("button", { type: "button", className: "prose-tools-result" }, parts)
    if (term.name === name.value) button.setAttribute("aria-current", "true")
    button.addEventListener("click", () => choose(term, button))
    return button
  }
  const results = searchList({
    prefix,
    search,
    label: t.termsFound,
    failed: t.searchFailed,
    render,
    async run(query, signal, status) {
      status.textContent = t.searching
      delete status.dataset.failed
      const answer = await getJSON(options.termsUrl, { q: query, lang }, signal)
      status.textContent = answer.terms.length ? format(t.termsCount, { count: answer.terms.length }) : t.noTerms
      // The term of the name given (editing it, or a name it already has) shows its definitions.
      const same = answer.terms.find((term) => term.name === name.value.trim())
      if (same && shown !== same.name) offer(same)
      return answer.terms
    },
  })
  name.addEventListener("input", () => name.setCustomValidity(""))
  definition.addEventListener("input", () => definition.setCustomValidity(""))

  const wordsShown = crel(
    "p",
    { className: "prose-tools-words" },
    formatNodes(t.termWords, { words: crel("bdi", { lang, dir, textContent: words }) }),
  )
  form.append(
    wordsShown,
    field({ id: `${prefix}search`, label: t.findTerm, help: t.findTermHelp, control: search }),
    results.status,
    results.list,
    offered,
    field({ id: `${prefix}name`, label: t.termName, help: t.termNameHelp, control: name }),
    field({
      id: `${prefix}definition`,
      label: format(t.definition, { language: languageName }),
      help: t.definitionHelp,
      control: definition,
    }),
  )
  form.addEventListener("submit", (event) => {
    event.preventDefault()
    const chosenName = name.value.trim()
    const text = definition.value.replace(/\s+/g, " ").trim() // a title is one line
    name.setCustomValidity(TERM_NAME.test(chosenName) ? "" : t.termNameInvalid)
    definition.setCustomValidity(text ? "" : t.definitionMissing)
    if (!form.reportValidity()) return
    shell.dialog.close()
    // A new term over words of a page link splits it: only the words selected become the term.
    setLink(editor, { href: `term:${chosenName}`, title: text }, wasTerm)
  })

  shell.show()
  // What the site already has: the term being edited, or terms for the words selected.
  search.value = wasTerm ? name.value : words.length <= 100 ? words : ""
  if (!wasTerm) search.select()
  results.find(true)
}

export const GlossaryTerm = Extension.create({
  name: "glossaryTerm",

  addOptions() {
    return { termsUrl: "", stringsUrl: "", label: "Glossary term" }
  },

  onCreate() {
    loadWords(this.options.stringsUrl).catch(() => {})
  },

  addMenuItems({ menu, buttons }) {
    menu.defineItem({
      name: "glossaryTerm",
      groups: "link",
      priority: 50, // after the link's own buttons
      command(editor) {
        editor.commands.addTerm()
      },
      enabled(editor) {
        return !editor.state.selection.empty || isTermLink(editor)
      },
      active: isTermLink,
      button: buttons.material("menu_book", this.options.label),
    })
  },

  addCommands() {
    return {
      addTerm:
        () =>
        ({ editor }) => {
          if (editor.state.selection.empty && !isTermLink(editor)) return false
          openTermDialog(editor, this.options)
          return true
        },
    }
  },
})
