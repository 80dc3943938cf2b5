// Tell the server which time zone this browser is in: preselect it in sign-up's
// time-zone field, and remember it in a cookie so visitors see times in their zone.
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) { return; }
  document.querySelectorAll("select[data-detect-time-zone]").forEach(function (select) {
    if (select.value && select.value !== "UTC") { return; }  // chosen already (e.g. a form shown again)
    var aliases = JSON.parse(select.dataset.aliases || "{}");
    zone = aliases[zone] || zone;
    var option = Array.prototype.find.call(select.options, function (o) { return o.value === zone; });
    if (!option) {
      option = new Option(zone.replace(/_/g, " "), zone);
      select.add(option);
    }
    select.value = zone;
  });
  var stored = (document.cookie.match(/(?:^|; )tz=([^;]*)/) || [])[1];
  if (stored !== zone) {
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax";  // zone names are cookie-safe
    // A visitor's page was drawn in a zone we guessed (none yet, or where they were last time): redraw it.
    var source = document.body.dataset.zoneSource;
    if (source !== "account" && document.cookie.indexOf("tz=" + zone) !== -1) {
      window.location.reload();
    }
  }
  // Zone selectors that change the page: no need to press a button when JavaScript runs.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
    var button = select.form.querySelector("[data-autosubmit-button]");
    if (button) { button.hidden = true; }
  });
})();
