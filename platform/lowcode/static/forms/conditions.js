// The browser's reading of form conditions: the rules of forms/conditions.py, applied to the same
// data (read the way forms/decoding.py reads a post). It only shows, hides and marks fields while
// the user fills them in; the server's validation stays the truth, and tests hold the two equal.
(function (global) {
  "use strict";

  function has(object, name) {
    return Object.prototype.hasOwnProperty.call(object, name);
  }

  // JSON equality as JSON Schema means it: 1 equals 1.0, true is not 1, arrays and objects deeply.
  function equal(a, b) {
    if (a === b) return true;
    if (Array.isArray(a) || Array.isArray(b)) {
      return Array.isArray(a) && Array.isArray(b) && a.length === b.length &&
        a.every(function (item, i) { return equal(item, b[i]); });
    }
    if (a && b && typeof a === "object" && typeof b === "object") {
      var keys = Object.keys(a);
      return keys.length === Object.keys(b).length &&
        keys.every(function (key) { return has(b, key) && equal(a[key], b[key]); });
    }
    return false;
  }

  // One property test of an `if`: const, enum, minimum, maximum, contains {const}. As in JSON
  // Schema, minimum and maximum say nothing about a non-number, contains nothing about a non-array.
  function matches(rule, value) {
    if (has(rule, "const") && !equal(value, rule["const"])) return false;
    if (has(rule, "enum") && !rule["enum"].some(function (item) { return equal(value, item); })) return false;
    if (typeof value === "number") {
      if (has(rule, "minimum") && value < rule.minimum) return false;
      if (has(rule, "maximum") && value > rule.maximum) return false;
    }
    if (has(rule, "contains") && Array.isArray(value) &&
        !value.some(function (item) { return equal(item, rule.contains["const"]); })) return false;
    return true;
  }

  // Whether `values` (name → value of the fields that hold one) satisfy an `if` schema.
  function holds(test, values) {
    var required = test.required || [];
    for (var i = 0; i < required.length; i++) {
      if (!has(values, required[i])) return false;
    }
    var properties = test.properties || {};
    return Object.keys(properties).every(function (name) {
      return !has(values, name) || matches(properties[name], values[name]);
    });
  }

  // Which fields of one object are shown and required. `rules` is the object's data-rules,
  // `values` its fields' values, `conditional` the names shown only while a branch applies.
  function evaluate(rules, values, conditional) {
    var view = {};
    Object.keys(values).forEach(function (name) {
      if (conditional.indexOf(name) < 0) view[name] = values[name];
    });
    var shown = {}, required = {};
    rules.required.forEach(function (name) { required[name] = true; });
    rules.conditions.forEach(function (condition) {
      var applies = has(condition, "present") ? has(view, condition.present) : holds(condition["if"], view);
      var branch = applies ? condition.then : condition["else"];
      branch.show.forEach(function (name) { shown[name] = true; });
      branch.require.forEach(function (name) { required[name] = true; });
    });
    Object.keys(rules.dependentRequired).forEach(function (key) {
      if (has(values, key) && (conditional.indexOf(key) < 0 || shown[key])) {
        rules.dependentRequired[key].forEach(function (name) { required[name] = true; });
      }
    });
    return {shown: shown, required: required};
  }

  global.LcConditions = {equal: equal, holds: holds, evaluate: evaluate};
})(window);
