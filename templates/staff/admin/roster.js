// Continues a job done in steps (roster import, new school year): each step is
// one short request that returns this page again with the next step's form,
// which is submitted at once. Without JavaScript the administrator presses the
// form's button for each step instead.
(function () {
  "use strict";
  var form = document.querySelector("form[data-continue]");
  if (!form) {
    return;
  }
  var button = form.querySelector("button");
  if (button) {
    button.disabled = true;
  }
  window.setTimeout(function () {
    form.submit();
  }, 200);
})();
