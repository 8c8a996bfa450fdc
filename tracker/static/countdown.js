// Keeps SLA countdowns current without reloading: every <time class="countdown" data-due=ISO>.
(function () {
  "use strict";
  function format(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
    if (days) return days + "d " + hours + "h";
    if (hours) return hours + "h " + mins + "m";
    return mins + "m";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time.countdown[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = due - now;
      el.textContent = left >= 0 ? "due in " + format(left) : "overdue by " + format(left);
      if (left < 0) el.classList.add("overdue");
    });
  }
  tick();
  setInterval(tick, 30000);
})();
