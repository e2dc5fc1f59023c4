/* Saraban's small behaviours, bound here instead of inline so that the Content-Security-Policy
   allows scripts from this site only (script-src 'self'). Listeners are delegated to the document,
   so content that htmx swaps in later behaves the same. Every page works without them. */
(function () {
  "use strict";

  // "/" jumps to the page's search box, unless one is typing in a field.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t.closest && t.closest("input,textarea,select,[contenteditable]")) return;
    var s = document.querySelector("[data-search]");
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

  // <select data-filterable>: a search box above it that hides the options not matching what is typed.
  // The texts come from the form's data-filter-label and data-filter-placeholder (the page's language).
  function filterable() {
    document.querySelectorAll("select[data-filterable]").forEach(function (sel) {
      if (sel.dataset.filterBound) return;
      sel.dataset.filterBound = "1";
      var form = sel.closest("form");
      var word = (form && form.dataset.filterLabel) || "filter";
      var box = document.createElement("input");
      box.type = "search";
      box.className = "filter-box";
      box.setAttribute("aria-label", sel.labels && sel.labels[0] ? sel.labels[0].textContent + " — " + word : word);
      box.placeholder = (form && form.dataset.filterPlaceholder) || "";
      sel.parentNode.insertBefore(box, sel);
      box.addEventListener("input", function () {
        var q = box.value.trim().toLowerCase();
        Array.prototype.forEach.call(sel.options, function (o) {
          o.hidden = q && !o.selected && o.text.toLowerCase().indexOf(q) < 0;
        });
      });
      box.addEventListener("keydown", function (e) {
        if (e.key === "Enter") { e.preventDefault(); sel.focus(); }
      });
    });
    var owner = document.getElementById("id_owner_unit");
    if (owner && document.getElementById("unit-names")) owner.setAttribute("list", "unit-names");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", filterable);
  else filterable();
})();
