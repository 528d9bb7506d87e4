// The segment calculator of a report: as values are typed, the segment the report's model puts
// them in. The model (scaling and centres) is JSON in the form's data-model attribute; the
// arithmetic is the report's: scale each feature, then the first segment at the smallest
// squared distance (generator/scorer.py `nearest` computes the same, in the same order). A
// withheld segment's centre is null: it is skipped, so its customers get the nearest published one.
(function () {
  "use strict";

  function segmentOf(model, values) {
    var best = -1, smallest = Infinity;
    for (var s = 0; s < model.centers.length; s++) {
      if (model.centers[s] === null) { continue; }  // withheld (suppress_below): not published
      var distance = 0;
      for (var j = 0; j < values.length; j++) {
        var x = model.log ? Math.log1p(values[j]) : values[j];
        var z = (x - model.shift[j]) / model.width[j] - model.centers[s][j];
        distance += z * z;
      }
      if (distance < smallest) { best = s; smallest = distance; }
    }
    return best;
  }

  function update(form, model, output) {
    var values = [];
    var complete = true;
    form.querySelectorAll("input").forEach(function (input) {
      var value = input.value.trim() === "" ? NaN : Number(input.value);
      if (!isFinite(value) || (model.log && value < 0)) { complete = false; }
      values.push(value);
    });
    if (!complete) {
      output.setAttribute("data-segment", "");
      output.textContent = model.log ? "Enter a number of at least 0 in every field." : "Enter a number in every field.";
      return;
    }
    var segment = segmentOf(model, values);
    output.setAttribute("data-segment", String(segment));
    output.textContent = "Segment " + segment + ": " + model.names[segment];
  }

  function enhance(root) {
    root.querySelectorAll("form.segment-calculator:not([data-ready])").forEach(function (form) {
      var model = JSON.parse(form.getAttribute("data-model"));
      var output = form.querySelector("output");
      form.setAttribute("data-ready", "");
      form.addEventListener("input", function () { update(form, model, output); });
      form.addEventListener("submit", function (event) { event.preventDefault(); update(form, model, output); });
      update(form, model, output);
    });
  }

  if (typeof module !== "undefined" && module.exports) {  // Node, for the tests
    module.exports = { segmentOf: segmentOf };
  } else if (typeof document$ !== "undefined") {  // Material: also after instant navigation
    document$.subscribe(function () { enhance(document); });
  } else {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  }
})();
