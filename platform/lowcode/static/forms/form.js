// A rendered form comes alive: fields follow their conditions (shown or hidden, required or not)
// as the user types, and repeatable groups gain and lose rows. Values are read exactly as
// forms/decoding.py reads the post: blanks trimmed, empty is absent, numbers and booleans typed.
(function () {
  "use strict";

  var BLANKS = /^[ \t\r\n\u3000]+|[ \t\r\n\u3000]+$/g;
  var NUMBER = /^-?\d+(\.\d+)?$/;
  var INPUTS = "input, select, textarea, button";

  function scalar(type, raw) {
    if (type === "boolean") return raw === "true" ? true : raw === "false" ? false : raw;
    if ((type === "number" || type === "integer") && NUMBER.test(raw)) return Number(raw);
    return raw;
  }

  function rowsOf(group) {
    return group.querySelector(":scope > .lc-rows");
  }

  // The value one field would post, or undefined when it would post nothing.
  function valueOf(field) {
    var kind = field.dataset.kind;
    if (kind === "object") return {};   // a section is always posted, if only empty
    if (kind === "group") return rowsOf(field).children.length ? [] : undefined;
    var values = Array.prototype.filter.call(field.querySelectorAll("[name]"), function (input) {
      return input.name === field.dataset.path && !((input.type === "radio" || input.type === "checkbox") && !input.checked);
    }).map(function (input) { return input.value.replace(BLANKS, ""); })
      .filter(function (raw) { return raw !== ""; })
      .map(function (raw) { return scalar(field.dataset.type, raw); });
    if (kind === "choices" || kind === "attachments") return values.length ? values : undefined;
    return values.length ? values[0] : undefined;
  }

  // The fields an object holds directly (not those of its sections or rows).
  function ownFields(scope) {
    return Array.prototype.filter.call(scope.querySelectorAll(".lc-field"), function (field) {
      return field.parentElement.closest(".lc-object") === scope;
    });
  }

  function setShown(field, shown) {
    field.hidden = !shown;
    // Hidden inputs are disabled, so the post carries only what the user could see. Always set:
    // showing an outer field has just enabled everything inside it, nested hidden fields included.
    field.querySelectorAll(INPUTS).forEach(function (input) { input.disabled = !shown; });
  }

  function setRequired(field, required) {
    field.classList.toggle("lc-required", required);
    field.querySelectorAll("input:not([type=radio]):not([type=checkbox]):not([type=hidden]), select, textarea")
      .forEach(function (input) {
        if (required) input.setAttribute("aria-required", "true");
        else input.removeAttribute("aria-required");
      });
  }

  // Re-evaluate every object's conditions, outer objects first: showing a section re-enables all
  // of its inputs, and its own conditions then hide again what they hide.
  function refresh(form) {
    form.querySelectorAll(".lc-object[data-rules]").forEach(function (scope) {
      if (scope.closest("[hidden]")) return;
      scope.lcRules = scope.lcRules || JSON.parse(scope.dataset.rules);
      var fields = ownFields(scope), values = {}, conditional = [];
      fields.forEach(function (field) {
        var value = valueOf(field);
        if (value !== undefined) values[field.dataset.name] = value;
        if (field.hasAttribute("data-conditional")) conditional.push(field.dataset.name);
      });
      var state = LcConditions.evaluate(scope.lcRules, values, conditional);
      fields.forEach(function (field) {
        if (field.hasAttribute("data-conditional")) setShown(field, !!state.shown[field.dataset.name]);
        setRequired(field, !!state.required[field.dataset.name]);
      });
    });
    // Showing a field re-enabled its group buttons wholesale: put the row limits back.
    form.querySelectorAll(".lc-group").forEach(updateGroup);
  }

  function updateGroup(group) {
    var count = rowsOf(group).children.length;
    var max = Number(group.dataset.max) || Infinity, min = Number(group.dataset.min) || 0;
    var enabled = !group.closest("[hidden]");
    group.querySelector(":scope > .lc-add-row").disabled = !enabled || count >= max;
    rowsOf(group).querySelectorAll(":scope > .lc-row > .lc-row-heading > .lc-remove-row").forEach(function (button) {
      button.disabled = !enabled || count <= min;
    });
  }

  function addRow(form, group) {
    var id = group.dataset.nextRow;
    group.dataset.nextRow = Number(id) + 1;
    var template = group.querySelector(":scope > .lc-row-template");
    rowsOf(group).insertAdjacentHTML("beforeend", template.innerHTML.split(group.dataset.placeholder).join(id));
    var row = rowsOf(group).lastElementChild;
    row.dispatchEvent(new Event("lc:row-added", {bubbles: true}));
    refresh(form);
    var first = row.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }

  function removeRow(form, row) {
    row.remove();
    refresh(form);
  }

  function start(form) {
    form.addEventListener("input", function () { refresh(form); });
    form.addEventListener("change", function () { refresh(form); });
    form.addEventListener("click", function (event) {
      var add = event.target.closest(".lc-add-row");
      var remove = event.target.closest(".lc-remove-row");
      if (add) addRow(form, add.closest(".lc-group"));
      if (remove) removeRow(form, remove.closest(".lc-row"));
    });
    refresh(form);
  }

  document.querySelectorAll("form.lc-form").forEach(start);
  window.LcForm = {refresh: refresh, valueOf: valueOf};
})();
