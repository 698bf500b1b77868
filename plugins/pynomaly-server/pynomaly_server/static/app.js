// Draws the result charts of the detect page after htmx swaps the result fragment in (no inline scripts: CSP).
(function () {
  "use strict";
  var charts = {};

  function chart(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    if (charts[id] && charts[id].getDom() === el) return charts[id];
    if (charts[id]) charts[id].dispose();
    charts[id] = echarts.init(el, null, { renderer: "canvas" });
    return charts[id];
  }

  function drawHistogram(data) {
    var c = chart("histogram");
    if (!c) return;
    var h = data.histogram, centers = [], i;
    for (i = 0; i < h.counts.length; i++) centers.push([(h.edges[i] + h.edges[i + 1]) / 2, h.counts[i]]);
    var width = h.edges.length > 1 ? (h.edges[1] - h.edges[0]) : 1;
    c.setOption({
      animation: false,
      grid: { left: 56, right: 16, top: 24, bottom: 40 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "value", name: "score", nameLocation: "middle", nameGap: 26, scale: true },
      yAxis: { type: "value", name: "rows", nameLocation: "middle", nameGap: 36 },
      series: [{
        type: "bar", data: centers, barWidth: "95%", itemStyle: { color: "#6366f1" },
        markLine: { symbol: "none", lineStyle: { color: "#dc2626", type: "dashed" },
                    label: { formatter: "threshold" }, data: [{ xAxis: data.threshold }] }
      }]
    }, true);
    c.getDom().setAttribute("data-rendered", String(h.counts.length));
    c.getDom().setAttribute("data-bin-width", String(width));
  }

  function drawScatter(data) {
    var c = chart("scatter");
    if (!c) return;
    var xi = parseInt(document.getElementById("scatter-x").value, 10);
    var yi = parseInt(document.getElementById("scatter-y").value, 10);
    var normal = [], anomalous = [], i;
    for (i = 0; i < data.points.length; i++) {
      var p = data.points[i], point = [p[xi], p[yi], data.point_rows[i]];
      (data.point_labels[i] === 1 ? anomalous : normal).push(point);
    }
    c.setOption({
      animation: false,
      grid: { left: 56, right: 16, top: 32, bottom: 40 },
      legend: { data: ["normal", "anomaly"], top: 0, right: 0 },
      tooltip: { formatter: function (p) { return "row " + p.value[2] + ": (" + p.value[0] + ", " + p.value[1] + ")"; } },
      xAxis: { type: "value", name: data.feature_names[xi], nameLocation: "middle", nameGap: 26, scale: true },
      yAxis: { type: "value", name: data.feature_names[yi], nameLocation: "middle", nameGap: 36, scale: true },
      series: [
        { name: "normal", type: "scatter", symbolSize: 5, data: normal, itemStyle: { color: "#64748b", opacity: 0.6 } },
        { name: "anomaly", type: "scatter", symbolSize: 8, data: anomalous, itemStyle: { color: "#dc2626" } }
      ]
    }, true);
    var dom = c.getDom();
    dom.setAttribute("data-rendered", String(normal.length + anomalous.length));
    dom.setAttribute("data-anomalies", String(anomalous.length));
    dom.setAttribute("data-axes", data.feature_names[xi] + "," + data.feature_names[yi]);
  }

  function render() {
    var node = document.getElementById("result-data");
    if (!node || typeof echarts === "undefined") return;
    var data = JSON.parse(node.textContent);
    drawHistogram(data);
    drawScatter(data);
    ["scatter-x", "scatter-y"].forEach(function (id) {
      var select = document.getElementById(id);
      if (select && !select.dataset.bound) {
        select.dataset.bound = "1";
        select.addEventListener("change", function () { drawScatter(data); });
      }
    });
  }

  document.addEventListener("htmx:afterSettle", render);
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });
  document.addEventListener("DOMContentLoaded", render);
})();
