// Draws every plotly figure a page carries as JSON (templates/lowcode/_chart.html).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".lc-chart[data-figure]").forEach(function (element) {
    var figure = JSON.parse(element.getAttribute("data-figure"));
    Plotly.newPlot(element, figure.data, figure.layout, {responsive: true, displaylogo: false});
  });
});
