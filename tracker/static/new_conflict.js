// The new-conflict form, enhanced: similar conflicts while the title is typed, and the
// forecast as category and severity change. Without JavaScript the "Check for similar
// conflicts" button shows both; these ask the same server fragments as one types.
(function () {
  "use strict";
  if (!window.fetch) { return; }
  function live(region, params, minimum) {
    if (!region) { return function () {}; }
    var asked = "";
    var timer = null;
    function ask() {
      var values = params();
      var query = new URLSearchParams(values).toString();
      if (query === asked || !minimum(values)) { return; }
      asked = query;
      fetch(region.dataset.url + "?" + query, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html !== null && asked === query) { region.innerHTML = html; } })
        .catch(function () { /* the button still works */ });
    }
    return function () { clearTimeout(timer); timer = setTimeout(ask, 400); };
  }
  var similar = document.getElementById("similar");
  var estimate = document.getElementById("estimate");
  var form = (similar || estimate || document.body).closest("form");
  if (!form) { return; }
  var field = function (name) { return form.querySelector("[name=" + name + "]"); };
  if (similar) { similar.dataset.url = similar.dataset.similarUrl; }
  if (estimate) { estimate.dataset.url = estimate.dataset.estimateUrl; }
  var askSimilar = live(similar, function () {
    return { title: field("title").value, description: field("description").value };
  }, function (v) { return v.title.trim().length >= 3; });
  var askEstimate = live(estimate, function () {
    return { category: field("category").value, severity: field("severity").value };
  }, function (v) { return v.category !== "" && v.severity !== ""; });
  field("title").addEventListener("input", askSimilar);
  field("description").addEventListener("change", askSimilar);
  field("category").addEventListener("change", askEstimate);
  field("severity").addEventListener("change", askEstimate);
})();
