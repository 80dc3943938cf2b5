// The month calendar on a mentor's profile (WAI-ARIA date picker grid, shown inline).
//
// The server renders a month of links and one day's times as radio buttons, and sends the free days of the
// whole calendar (a list of dates) with the shown day's times. This script swaps the links for a month grid: days
// with free times are marked, the chosen day's times show beside (wide screens) or below (phones), fetched from
// the page's times address (JSON) when another day is chosen, and a summary of the chosen session sits next to
// "Book session". It sends the same form fields: a radio named "start".
// Keys in the grid: arrows move a day or a week, Home/End the week's ends, Page Up/Down a month,
// Enter/Space pick the day. Enter on a time picks it (it does not send the form).
(function () {
  var root = document.querySelector("[data-picker]");
  var dataNode = document.getElementById("picker-data");
  var form = document.getElementById("book-form");
  if (!root || !dataNode || !form) { return; }
  var data = JSON.parse(dataNode.textContent);
  if (!data.free.length) { return; }
  var free = {};
  data.free.forEach(function (k) { free[k] = true; });
  var days = {};  // times of the days fetched so far, by date
  days[data.day] = data.times;
  var dayField = form.querySelector("[data-picker-day]"), weekField = form.querySelector("[data-picker-week]");

  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December"];
  var WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
  var SHORT = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];

  // Dates are handled as UTC midnights, so no local clock (or DST) can shift a day.
  function parse(key) { var p = key.split("-"); return new Date(Date.UTC(+p[0], +p[1] - 1, +p[2])); }
  function key(date) { return date.toISOString().slice(0, 10); }
  function addDays(date, n) { return new Date(date.getTime() + n * 86400000); }
  function weekday(date) { return (date.getUTCDay() + 6) % 7; }  // Monday 0
  function monthStart(date) { return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1)); }
  function addMonths(date, n) {
    var target = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + n, 1));
    var last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
    target.setUTCDate(Math.min(date.getUTCDate(), last));
    return target;
  }
  function dayName(date) {
    return WEEKDAYS[weekday(date)] + " " + date.getUTCDate() + " " + MONTHS[date.getUTCMonth()];
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  var first = monthStart(parse(data.today));
  var lastDay = parse(data.last);
  var lastMonth = monthStart(lastDay);
  var gridStart = first, gridEnd = new Date(Date.UTC(lastDay.getUTCFullYear(), lastDay.getUTCMonth() + 1, 0));
  var selected = parse(data.day);  // the day the server showed: the first with free times, or the one asked for
  var focused = selected;
  var shown = monthStart(selected);

  // The frame: month heading and buttons, the grid, the times.
  root.classList.add("picker");
  var cal = el("div", { "class": "picker-cal" });
  var head = el("div", { "class": "picker-head" });
  var prev = el("button", { type: "button", "class": "picker-step", "aria-label": "Previous month" }, "←");
  var title = el("h4", { id: "picker-month", "aria-live": "polite" });
  var next = el("button", { type: "button", "class": "picker-step", "aria-label": "Next month" }, "→");
  var soonest = el("button", { type: "button", "class": "picker-soonest" }, "Next available");
  head.append(prev, title, next, soonest);
  var table = el("table", { role: "grid", "aria-labelledby": "picker-month", "class": "picker-grid" });
  var thead = el("thead"), headRow = el("tr");
  SHORT.forEach(function (abbr, i) {
    var th = el("th", { scope: "col", abbr: WEEKDAYS[i] });
    th.append(el("span", { "aria-hidden": "true" }, abbr), el("span", { "class": "visually-hidden" }, WEEKDAYS[i]));
    headRow.append(th);
  });
  thead.append(headRow);
  var tbody = el("tbody");
  table.append(thead, tbody);
  var legend = el("p", { "class": "help picker-legend" }, "Days with free times are marked with a dot.");
  cal.append(head, table, legend);

  var times = el("div", { "class": "picker-times" });
  var timesTitle = el("h4", { id: "picker-day" });
  var fieldset = el("fieldset", { "class": "slots" });
  var fieldLegend = el("legend", { "class": "visually-hidden" });
  var row = el("div", { "class": "slot-row" });
  fieldset.append(fieldLegend, row);
  times.append(timesTitle, fieldset);
  root.append(cal, times);

  var summary = document.getElementById("picker-summary");

  function drawMonth() {
    title.textContent = MONTHS[shown.getUTCMonth()] + " " + shown.getUTCFullYear();
    prev.disabled = shown.getTime() <= first.getTime();
    next.disabled = shown.getTime() >= lastMonth.getTime();
    tbody.textContent = "";
    var day = addDays(shown, -weekday(shown));
    var todayKey = data.today;
    do {
      var tr = el("tr");
      for (var i = 0; i < 7; i++) {
        var td = el("td");
        if (day.getUTCMonth() === shown.getUTCMonth()) {
          var k = key(day), isFree = !!free[k];
          td.dataset.date = k;
          td.setAttribute("tabindex", k === key(focused) ? "0" : "-1");
          td.setAttribute("aria-selected", k === key(selected) ? "true" : "false");
          td.className = "picker-day" + (isFree ? " free" : "");
          if (!isFree) { td.setAttribute("aria-disabled", "true"); }
          if (k === todayKey) { td.setAttribute("aria-current", "date"); }
          td.append(el("span", { "aria-hidden": "true" }, String(day.getUTCDate())),
            el("span", { "class": "visually-hidden" }, dayName(day) + (isFree ? ", free times" : ", no free times")));
        }
        tr.append(td);
        day = addDays(day, 1);
      }
      tbody.append(tr);
    } while (day.getUTCMonth() === shown.getUTCMonth());
  }

  // Show the chosen day's times, fetching them first when this day has not been seen yet. The heading names the
  // day only once its times are there, so Tab from the grid always lands on them.
  function drawTimes() {
    var k = key(selected);
    if (dayField) { dayField.value = k; }
    if (weekField) { weekField.value = String(Math.floor((selected - parse(data.today)) / (7 * 86400000))); }
    if (days[k]) { showTimes(k); return; }
    times.setAttribute("aria-busy", "true");
    row.textContent = "";
    row.append(el("p", { "class": "muted" }, "Loading times…"));
    fetch(root.dataset.timesUrl + "&day=" + k, { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (answer) {
        days[answer.day] = answer.times;
        if (key(selected) === answer.day) { showTimes(answer.day); }
      })
      .catch(function () {
        if (key(selected) !== k) { return; }
        times.removeAttribute("aria-busy");
        timesTitle.textContent = dayName(selected);
        row.textContent = "";
        var p = el("p", { "class": "muted", role: "alert" }, "The times of this day could not be loaded. ");
        var link = el("a", { href: "?" + root.dataset.timesUrl.split("?")[1] + "&day=" + k }, "Show them");
        p.append(link);
        row.append(p);
        drawSummary();
      });
  }

  function showTimes(k) {
    var slots = days[k] || [];
    times.removeAttribute("aria-busy");
    timesTitle.textContent = dayName(selected);
    fieldLegend.textContent = "Start time on " + dayName(selected);
    var chosen = form.querySelector("input[name=start]:checked");
    var keep = chosen ? chosen.value : null;
    row.textContent = "";
    slots.forEach(function (slot, i) {
      var id = "time-" + k + "-" + i;
      var input = el("input", { type: "radio", name: "start", id: id, value: slot[0] });
      if (slot[0] === keep) { input.checked = true; }
      var label = el("label", { "class": "slot", "for": id, "aria-label": dayName(selected) + " " + slot[1] }, slot[1]);
      row.append(input, label);
    });
    if (!slots.length) { row.append(el("p", { "class": "muted" }, "No free times on this day.")); }
    drawSummary();
  }

  function drawSummary(problem) {
    if (!summary) { return; }
    summary.hidden = false;
    summary.textContent = "";
    var what = el("strong", {}, root.dataset.service);
    summary.append(what, document.createTextNode(" · " + root.dataset.price));
    var chosen = form.querySelector("input[name=start]:checked");
    var slot = chosen && (days[key(selected)] || []).filter(function (s) { return s[0] === chosen.value; })[0];
    if (slot) {
      summary.append(el("span", { "class": "picker-when" },
        dayName(selected) + ", " + slot[1] + "–" + slot[2] + " " + slot[3]));
      if (slot.length > 4) {
        summary.append(el("span", { "class": "picker-theirs muted" }, (slot[6] ? slot[6] + ", " : "") + slot[4] +
          "–" + slot[5] + " for " + root.dataset.mentor + ", " + slot[7]));
      }
    } else if (problem) {
      summary.append(el("span", { "class": "picker-problem", role: "alert" }, problem));
    } else {
      summary.append(el("span", { "class": "picker-when muted" }, "Pick a day and a time."));
    }
  }

  function cell(date) { return tbody.querySelector('td[data-date="' + key(date) + '"]'); }

  function moveFocus(date, focusIt) {
    if (date < gridStart) { date = gridStart; }
    if (date > gridEnd) { date = gridEnd; }
    focused = date;
    if (monthStart(date).getTime() !== shown.getTime()) { shown = monthStart(date); drawMonth(); }
    tbody.querySelectorAll("td[tabindex='0']").forEach(function (td) { td.setAttribute("tabindex", "-1"); });
    var target = cell(date);
    if (target) {
      target.setAttribute("tabindex", "0");
      if (focusIt) { target.focus(); }
    }
  }

  function choose(date, focusIt) {
    if (!free[key(date)]) { return false; }
    selected = date;
    shown = monthStart(date);
    focused = date;
    drawMonth();
    drawTimes();
    if (focusIt) { cell(date).focus(); }
    return true;
  }

  table.addEventListener("click", function (event) {
    var td = event.target.closest("td[data-date]");
    if (td) { focused = parse(td.dataset.date); if (!choose(focused, true)) { moveFocus(focused, true); } }
  });
  table.addEventListener("keydown", function (event) {
    var td = event.target.closest("td[data-date]");
    if (!td) { return; }
    var at = parse(td.dataset.date), to = null;
    switch (event.key) {
      case "ArrowRight": to = addDays(at, 1); break;
      case "ArrowLeft": to = addDays(at, -1); break;
      case "ArrowDown": to = addDays(at, 7); break;
      case "ArrowUp": to = addDays(at, -7); break;
      case "Home": to = addDays(at, -weekday(at)); break;
      case "End": to = addDays(at, 6 - weekday(at)); break;
      case "PageDown": to = addMonths(at, 1); break;
      case "PageUp": to = addMonths(at, -1); break;
      case "Enter": case " ": event.preventDefault(); choose(at, true); return;
      default: return;
    }
    event.preventDefault();
    moveFocus(to, true);
  });
  // A month button that ends up disabled (first or last month) would drop keyboard focus to the page:
  // hand it to the other one.
  function stepMonth(button, other, months) {
    moveFocus(addMonths(focused, months), false);
    if (button.disabled) other.focus();
  }
  prev.addEventListener("click", function () { stepMonth(prev, next, -1); });
  next.addEventListener("click", function () { stepMonth(next, prev, 1); });
  soonest.addEventListener("click", function () { choose(parse(data.free[0]), true); });

  // A time is picked by Enter too, and Enter never sends the form from here.
  row.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.name === "start") {
      event.preventDefault();
      event.target.checked = true;
      drawSummary();
    }
  });
  row.addEventListener("change", function () { drawSummary(); });
  form.addEventListener("submit", function (event) {
    if (!form.querySelector("input[name=start]:checked")) {
      event.preventDefault();
      drawSummary("Pick a time first.");
      var firstTime = row.querySelector("input[name=start]");
      (firstTime || cell(focused) || table).focus();
    }
  });

  var fallback = form.querySelector("[data-picker-fallback]");
  if (fallback) { fallback.remove(); }
  root.hidden = false;
  drawMonth();
  drawTimes();
})();
