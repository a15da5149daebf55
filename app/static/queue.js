/* Queue keyboard shortcuts (templates/productivity/_shortcuts_help.html).
   j/k move between rows, Enter opens (the row's link has the focus), x ticks
   the row, "/" focuses the filters, "?" shows the help. Nothing fires while
   typing in a field or with Ctrl/Alt/Meta held. */
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll(".queue-table tbody tr"));
  var current = -1;

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    if (tag === "input") {
      return ["checkbox", "radio", "button", "submit", "reset"].indexOf(target.type) < 0;
    }
    return tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function select(index) {
    if (!rows.length) { return; }
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (current >= 0 && rows[current]) { rows[current].classList.remove("current"); }
    current = index;
    var row = rows[current];
    row.classList.add("current");
    var link = row.querySelector("a");
    if (link) { link.focus(); }
  }

  document.addEventListener("focusin", function (event) {
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].contains(event.target)) {
        if (current >= 0 && rows[current]) { rows[current].classList.remove("current"); }
        current = i;
        rows[i].classList.add("current");
        return;
      }
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || typing(event.target)) { return; }
    var help = document.getElementById("shortcuts-help");
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current < 0 ? 0 : current - 1); break;
      case "x":
        if (current >= 0) {
          var box = rows[current].querySelector("input[type=checkbox]");
          if (box) { box.checked = !box.checked; }
        }
        break;
      case "/":
        var filter = document.getElementById("estado");
        if (filter) { filter.focus(); }
        break;
      case "?":
        if (help) {
          help.open = !help.open;
          if (help.open) { help.querySelector("summary").focus(); }
        }
        break;
      default: return;
    }
    event.preventDefault();
  });
})();
