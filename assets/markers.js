/*
 * Markers over a plotly map (the clicked point ×, the nearest reachable point ◇), drawn in
 * an SVG layer above the plot instead of as part of the figure.
 *
 * Changing any part of a plotly figure, even one shape, makes plotly recompute and redraw
 * the whole map: hundreds of milliseconds for a map with a 200x200 heatmap, contour lines
 * and 500 points. These markers are placed with the axes' own data-to-pixel maps and
 * follow every zoom, pan and resize (plotly_relayout, plotly_relayouting, plotly_afterplot).
 *
 * window.foolingMarkers.set(graphId, {clicked: [x, y] | null, nearest: [x, y] | null})
 * window.foolingMarkers.state[graphId] holds what is drawn (for tests).
 */
(function () {
    "use strict";
    var NS = "http://www.w3.org/2000/svg";
    var PATHS = {clicked: "M-7,-7L7,7M-7,7L7,-7", nearest: "M0,-8L8,0L0,8L-8,0Z"};
    var M = window.foolingMarkers = window.foolingMarkers || {state: {}};

    function plot(graphId) {
        var el = document.getElementById(graphId);
        return el ? el.querySelector(".js-plotly-plot") || (el.classList.contains("js-plotly-plot") ? el : null)
                  : null;
    }

    function layer(gd) {
        var box = gd.querySelector(".svg-container");
        if (!box) { return null; }
        var svg = box.querySelector("svg.fooling-markers");
        if (!svg) {
            svg = document.createElementNS(NS, "svg");
            svg.setAttribute("class", "fooling-markers");
            for (var kind in PATHS) {
                var p = document.createElementNS(NS, "path");
                p.setAttribute("d", PATHS[kind]);
                p.setAttribute("class", "fooling-marker marker-" + kind);
                p.setAttribute("visibility", "hidden");
                svg.appendChild(p);
            }
            box.appendChild(svg);
        }
        return svg;
    }

    function draw(graphId) {
        var gd = plot(graphId), marks = M.state[graphId] || {};
        if (!gd || !gd._fullLayout || !gd._fullLayout.xaxis) { return; }
        var svg = layer(gd);
        if (!svg) { return; }
        var xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        svg.setAttribute("width", gd._fullLayout.width);
        svg.setAttribute("height", gd._fullLayout.height);
        for (var kind in PATHS) {
            var node = svg.querySelector(".marker-" + kind), at = marks[kind];
            var px = at ? xa._offset + xa.l2p(at[0]) : NaN, py = at ? ya._offset + ya.l2p(at[1]) : NaN;
            var inside = isFinite(px) && isFinite(py) && px >= xa._offset && px <= xa._offset + xa._length &&
                py >= ya._offset && py <= ya._offset + ya._length;
            node.setAttribute("visibility", inside ? "visible" : "hidden");
            if (inside) { node.setAttribute("transform", "translate(" + px + "," + py + ")"); }
        }
    }

    function follow(graphId) {
        var gd = plot(graphId);
        if (!gd || gd.foolingMarkersFollow === graphId || !gd.on) { return; }
        gd.foolingMarkersFollow = graphId;
        var redraw = function () { draw(graphId); };
        gd.on("plotly_relayout", redraw);
        gd.on("plotly_relayouting", redraw);
        gd.on("plotly_afterplot", redraw);
        window.addEventListener("resize", redraw);
    }

    /* marks: {clicked: [x, y] or null, nearest: [x, y] or null}; anything else hides both */
    M.set = function (graphId, marks) {
        var ok = function (p) { return Array.isArray(p) && p.length === 2 && isFinite(p[0]) && isFinite(p[1]); };
        M.state[graphId] = {clicked: marks && ok(marks.clicked) ? marks.clicked : null,
                            nearest: marks && ok(marks.nearest) ? marks.nearest : null};
        follow(graphId);
        draw(graphId);
    };

    /* a graph drawn later (or drawn again) picks up its markers */
    new MutationObserver(function () {
        for (var id in M.state) { if (plot(id)) { follow(id); } }
    }).observe(document.documentElement, {childList: true, subtree: true});
})();
