// Similar conflicts while typing: the same list the "Check for similar conflicts" button shows.
(function () {
  "use strict";
  var region = document.getElementById("similar");
  if (!region || !window.fetch) { return; }
  var form = region.closest("form");
  var title = form.querySelector("[name=title]");
  var description = form.querySelector("[name=description]");
  var timer = null;
  var asked = "";
  function ask() {
    var query = new URLSearchParams({ title: title.value, description: description.value });
    if (title.value.trim().length < 3 || query.toString() === asked) { return; }
    asked = query.toString();
    fetch(region.dataset.similarUrl + "?" + asked, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null && asked === query.toString()) { region.innerHTML = html; }
      })
      .catch(function () { /* the button still works */ });
  }
  function later() { clearTimeout(timer); timer = setTimeout(ask, 400); }
  title.addEventListener("input", later);
  description.addEventListener("change", later);
})();
