// Sign-in forms: send the browser's timezone, so deadlines read in local time from the first
// page. The server keeps it only while the user has chosen no zone; without script, nothing.
(function () {
  "use strict";
  function ready() {
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) {
      return;
    }
    if (!zone) return;
    document.querySelectorAll("input[name='browser_timezone']").forEach(function (input) {
      input.value = zone;
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
