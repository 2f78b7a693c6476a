/* narcotrace report: draws each channel's graph with the inlined Cytoscape.js; no network, no eval. */
(function () {
  "use strict";
  var violations = 0;
  document.addEventListener("securitypolicyviolation", function () {
    violations += 1;
    document.body.setAttribute("data-csp-violations", String(violations));
  });

  var style = [
    { selector: "node", style: {
      "background-color": "data(colour)", "label": "data(label)", "font-size": 10, "color": "#1a202c",
      "text-valign": "bottom", "text-margin-y": 4, "width": 22, "height": 22, "text-wrap": "ellipsis",
      "text-max-width": 150, "border-width": 2, "border-color": "#ffffff" } },
    { selector: "node[role = 'shop']", style: { "width": 38, "height": 38, "font-size": 12, "font-weight": "bold",
      "shape": "round-rectangle" } },
    { selector: "node[role = 'buyers']", style: { "shape": "ellipse", "border-style": "dashed",
      "border-color": "#718096" } },
    { selector: "edge", style: {
      "width": "data(width)", "line-color": "#a0aec0", "target-arrow-color": "#a0aec0",
      "target-arrow-shape": "triangle", "curve-style": "bezier", "label": "data(label)", "font-size": 9,
      "color": "#4a5568", "text-background-color": "#ffffff", "text-background-opacity": 0.85,
      "text-background-padding": 1 } },
    { selector: ".faded", style: { "opacity": 0.15 } },
    { selector: "node:selected", style: { "border-color": "#f6e05e", "border-width": 4 } }
  ];

  function draw(box) {
    var data = JSON.parse(document.getElementById(box.getAttribute("data-graph")).textContent);
    var elements = [];
    data.nodes.forEach(function (n) {
      elements.push({ group: "nodes", position: { x: n.x, y: n.y },
        data: { id: n.id, label: n.label, role: n.role, colour: n.colour, info: n.info } });
    });
    data.edges.forEach(function (e) {
      elements.push({ group: "edges",
        data: { id: e.id, source: e.source, target: e.target, label: e.label, width: e.width } });
    });
    var cy = cytoscape({ container: box, elements: elements, style: style, layout: { name: "preset" },
      minZoom: 0.2, maxZoom: 3, wheelSensitivity: 0.2 });
    cy.fit(undefined, 30);
    var panel = box.parentNode.querySelector(".graph-info");
    cy.on("tap", "node", function (evt) {
      var node = evt.target;
      cy.elements().addClass("faded");
      node.closedNeighborhood().removeClass("faded");
      if (panel) { panel.textContent = node.data("label") + " \u2014 " + node.data("info"); }
    });
    cy.on("tap", function (evt) {
      if (evt.target === cy) {
        cy.elements().removeClass("faded");
        if (panel) { panel.textContent = panel.getAttribute("data-hint"); }
      }
    });
    box.setAttribute("data-nodes", String(cy.nodes().length));
    box.setAttribute("data-edges", String(cy.edges().length));
    return cy;
  }

  function init() {
    document.body.setAttribute("data-csp-violations", String(violations));
    var drawn = 0;
    var boxes = document.querySelectorAll(".graph[data-graph]");
    for (var i = 0; i < boxes.length; i += 1) {
      try { draw(boxes[i]); drawn += 1; } catch (err) { boxes[i].setAttribute("data-error", String(err)); }
    }
    document.body.setAttribute("data-graphs-drawn", String(drawn));
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
