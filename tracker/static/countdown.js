// Keeps SLA countdowns current without reloading: every <time class="countdown" data-due=ISO>.
// The words come from <html data-due-in=… data-span-days=…>, in the page's language.
(function () {
  "use strict";
  var words = document.documentElement.dataset;
  function fill(pattern, values, fallback) {
    if (!pattern) return fallback;
    return pattern.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }
  function format(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var d = Math.floor(minutes / 1440), h = Math.floor((minutes % 1440) / 60), m = minutes % 60;
    var values = {d: d, h: h, m: m};
    if (d) return fill(words.spanDays, values, d + "d " + h + "h");
    if (h) return fill(words.spanHours, values, h + "h " + m + "m");
    return fill(words.spanMinutes, values, m + "m");
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time.countdown[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = due - now, span = format(left);
      el.textContent = left >= 0
        ? fill(words.dueIn, {span: span}, "due in " + span)
        : fill(words.overdueBy, {span: span}, "overdue by " + span);
      if (left < 0) el.classList.add("overdue");
    });
  }
  tick();
  setInterval(tick, 30000);
})();
