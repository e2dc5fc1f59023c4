/* Saraban's small behaviours, bound here instead of inline so that the Content-Security-Policy
   allows scripts from this site only (script-src 'self'). Listeners are delegated to the document,
   so content that htmx swaps in later behaves the same. Every page works without them. */
(function () {
  "use strict";

  // "/" jumps to the page's own search box ([data-search]: registers, directory, search page), or else to
  // the letters' search box of the main menu ([data-search-global]), unless one is typing in a field.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t.closest && t.closest("input,textarea,select,[contenteditable]")) return;
    var s = document.querySelector("[data-search]") || document.querySelector("[data-search-global]");
    if (s) { e.preventDefault(); s.focus(); s.select(); }
  });

  document.addEventListener("click", function (e) {
    var target = e.target instanceof Element ? e.target : null;
    if (!target) return;
    // <button data-print>: print the page.
    if (target.closest("[data-print]")) { window.print(); return; }
    // <button data-insert="…">: a quick phrase of the endorsement, "{unit}" replaced by the unit chosen.
    var quick = target.closest("[data-insert]");
    var form = quick && quick.closest("form");
    var box = form && form.querySelector("textarea[name=instruction]");
    if (!box) return;
    var s = form.querySelector("select[name=assign_1]");
    var unit = s && s.value ? s.options[s.selectedIndex].text.split(" — ")[0] : "";
    var t = quick.getAttribute("data-insert");
    var caret = -1;
    if (t.indexOf("{unit}") >= 0) { caret = t.indexOf("{unit}") + (unit ? unit.length : 0); t = t.replace("{unit}", unit); }
    var pre = box.value && !/\s$/.test(box.value) ? box.value + " " : box.value;
    box.value = pre + t;
    box.focus();
    var pos = caret >= 0 && !unit ? pre.length + caret : box.value.length;
    box.setSelectionRange(pos, pos);
  });

  document.addEventListener("change", function (e) {
    var target = e.target instanceof Element ? e.target : null;
    if (!target) return;
    // <select data-autosubmit>: choosing shows the result at once.
    if (target.matches("select[data-autosubmit]") && target.form) { target.form.submit(); return; }
    // <input type=checkbox data-select-all="NAME">: ticks or clears every box named NAME.
    var name = target.getAttribute("data-select-all");
    if (name) {
      document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
        box.checked = target.checked;
      });
    }
  });

  // <select multiple data-recipients="URL">: the organisations chosen (its options, all selected) shown as
  // chips with a remove button, and a search box (a combobox) that asks URL&q=… as one types, a moment
  // after the last key, and lists the matches with their letter code and a badge for an organisation
  // of another deployment. Arrow keys move in the list, Enter or a click adds, Escape closes it. The
  // select stays in the form (hidden), so the ids are posted as without the script. The texts come
  // from the select's data-*-label attributes (the page's language).
  var pickers = 0;

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content) node.textContent = content;
    return node;
  }

  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }

  function recipientPicker(sel) {
    if (sel.dataset.pickerBound) return;
    sel.dataset.pickerBound = "1";
    var d = sel.dataset, n = ++pickers, base = sel.id || "picker-" + n;
    var label = sel.labels && sel.labels[0];
    var wrap = el("div", "picker");
    var chips = el("ul", "chips");
    var input = el("input", "picker-input");
    var list = el("ul", "picker-list");
    var status = el("p", "picker-status");
    var results = [], active = -1, timer = 0, asked = 0;

    chips.setAttribute("aria-label", (label ? label.textContent + ": " : "") + (d.chosenLabel || ""));
    input.type = "text";
    input.id = base + "-search";
    input.autocomplete = "off";
    input.maxLength = 100;
    input.placeholder = d.placeholder || "";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", base + "-list");
    input.setAttribute("aria-describedby", base + "-status");
    list.id = base + "-list";
    list.hidden = true;
    list.setAttribute("role", "listbox");
    if (label) list.setAttribute("aria-label", label.textContent);
    status.id = base + "-status";
    status.setAttribute("aria-live", "polite");
    if (label) label.htmlFor = input.id;
    sel.hidden = true;
    sel.setAttribute("aria-hidden", "true");
    sel.tabIndex = -1;
    wrap.appendChild(chips);
    wrap.appendChild(input);
    wrap.appendChild(list);
    wrap.appendChild(status);
    sel.parentNode.insertBefore(wrap, sel.nextSibling);

    // What one organisation looks like, in a chip or in the list: name, code, the remote badge.
    function describe(node, name, code, remote, nameEn) {
      node.appendChild(el("span", "o-name", name));
      if (code) { node.appendChild(document.createTextNode(" ")); node.appendChild(el("span", "code", code)); }
      if (remote) {
        var badge = el("span", "tag remote", d.remoteLabel || "remote");
        if (d.remoteHint) badge.title = d.remoteHint;
        node.appendChild(document.createTextNode(" "));
        node.appendChild(badge);
      }
      if (nameEn) node.appendChild(el("span", "o-en", nameEn));
    }

    function chosen(id) {
      return Array.prototype.some.call(sel.options, function (o) { return o.value === String(id); });
    }

    function announce(message) { status.textContent = message || ""; }

    function changed() { sel.dispatchEvent(new Event("change", { bubbles: true })); }

    function chip(option) {
      var item = el("li", "chip");
      describe(item, option.text, option.dataset.code, option.dataset.remote);
      var x = el("button", "chip-x", "×");
      x.type = "button";
      x.setAttribute("aria-label", (d.removeLabel || "Remove") + " " + option.text);
      x.addEventListener("click", function () {
        var next = item.nextElementSibling || item.previousElementSibling;
        option.remove();
        item.remove();
        announce(fill(d.removedLabel, { name: option.text }));
        changed();
        var target = next && next.querySelector("button");
        (target || input).focus();
      });
      item.appendChild(x);
      chips.appendChild(item);
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var items = list.querySelectorAll("[role=option]");
      if (!items.length) return;
      active = (index + items.length) % items.length;
      Array.prototype.forEach.call(items, function (item, i) {
        item.setAttribute("aria-selected", i === active ? "true" : "false");
        item.classList.toggle("active", i === active);
      });
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function show(rows) {
      results = rows.filter(function (r) { return !chosen(r.id); });
      list.textContent = "";
      results.forEach(function (r, i) {
        var item = el("li", "picker-option");
        item.id = base + "-o" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        describe(item, r.name_th, r.letter_code, r.remote, r.name_en);
        item.addEventListener("mousedown", function (e) { e.preventDefault(); });  // keep the focus in the box
        item.addEventListener("click", function () { add(r); });
        list.appendChild(item);
      });
      var open = results.length > 0 && document.activeElement === input;  // not after the user moved on
      list.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      active = -1;
      input.removeAttribute("aria-activedescendant");
      announce(results.length ? fill(d.foundLabel, { n: results.length }) : d.noneLabel);
    }

    function add(r) {
      if (!chosen(r.id)) {
        var option = new Option(r.name_th, String(r.id), true, true);
        if (r.letter_code) option.dataset.code = r.letter_code;
        if (r.remote) option.dataset.remote = "1";
        sel.appendChild(option);
        chip(option);
        changed();
      }
      input.value = "";
      close();
      announce(fill(d.addedLabel, { name: r.name_th }));
      input.focus();
    }

    function search(q) {
      var mine = ++asked;
      var url = d.recipients + (d.recipients.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(q);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(function (data) { if (mine === asked) show(data.results || []); })
        .catch(function () { if (mine === asked) { close(); announce(d.errorLabel); } });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (!q) { asked++; close(); announce(""); return; }
      timer = setTimeout(function () { search(q); }, 250);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (list.hidden) { clearTimeout(timer); search(input.value.trim()); return; }
        highlight(active < 0 && e.key === "ArrowUp" ? -1 : active + (e.key === "ArrowDown" ? 1 : -1));
      } else if (e.key === "Enter") {
        e.preventDefault();  // never submits the letter from the search box
        if (!list.hidden && results.length) add(results[active < 0 ? 0 : active]);
      } else if (e.key === "Escape" && !list.hidden) {
        e.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });

    Array.prototype.forEach.call(sel.options, function (o) { o.selected = true; chip(o); });
  }

  function bind() {
    document.querySelectorAll("select[data-recipients]").forEach(recipientPicker);
    var owner = document.getElementById("id_owner_unit");
    if (owner && document.getElementById("unit-names")) owner.setAttribute("list", "unit-names");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", bind);
  else bind();
})();
