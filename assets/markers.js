/*
 * Markers over a plotly map (the clicked point ×, the nearest reachable point ◇), drawn in
 * an SVG layer above the plot instead of as part of the figure.
 *
 * Changing any part of a plotly figure, even one shape, makes plotly recompute and redraw
 * the whole map: hundreds of milliseconds for a map with a 200x200 heatmap, contour lines
 * and 500 points. These markers are placed with the axes' own data-to-pixel maps and
 * follow every zoom, pan and resize (plotly_relayout, plotly_relayouting, plotly_afterplot).
 *
 * window.foolingMarkers.set(graphId, {kind: [x, y] | null, ...}, group): kinds are clicked (×),
 * nearest (◇), own (●, a digit of the user's) and walked (○, where it was walked to); each
 * group (a page's point store) replaces only its own marks.
 * window.foolingMarkers.state[graphId] holds what is drawn, by kind (for tests).
 *
 * fooling_marks.PointStore (app.components.PointStore) is a store whose data are drawn this
 * way: it renders nothing, and sets its group's marks in the commit that changes its data,
 * so a click's markers reach the screen in the frame its result does, with no callback.
 * Once that frame has been drawn it copies the data to its `shown` prop, for what may come
 * after the picture (the address a page writes its view to).
 */
(function () {
    "use strict";
    var NS = "http://www.w3.org/2000/svg";
    var PATHS = {clicked: "M-7,-7L7,7M-7,7L7,-7", nearest: "M0,-8L8,0L0,8L-8,0Z",
                 own: "M-6,0A6,6 0 1,0 6,0A6,6 0 1,0 -6,0Z", walked: "M-8,0A8,8 0 1,0 8,0A8,8 0 1,0 -8,0Z"};
    var M = window.foolingMarkers = window.foolingMarkers || {state: {}, groups: {}};

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

    /* marks: {kind: [x, y] or null}; a group's kinds not given are hidden */
    M.set = function (graphId, marks, group) {
        var ok = function (p) { return Array.isArray(p) && p.length === 2 && isFinite(p[0]) && isFinite(p[1]); };
        var groups = M.groups[graphId] = M.groups[graphId] || {};
        groups[group || "point"] = marks && typeof marks === "object" ? marks : {};
        var all = {};
        for (var g in groups) {
            for (var kind in groups[g]) { if (kind in PATHS && ok(groups[g][kind])) { all[kind] = groups[g][kind]; } }
        }
        M.state[graphId] = all;
        follow(graphId);
        draw(graphId);
    };

    /* a PointStore's data as marks: {kind: data[field]} for each field -> kind */
    function marksOf(data, fields) {
        var marks = {};
        for (var field in fields) {
            if (fields.hasOwnProperty(field)) {
                marks[fields[field]] = data && typeof data === "object" ? (data[field] || null) : null;
            }
        }
        return marks;
    }

    function PointStore(props) {
        var data = props.data, graphs = props.graphs, fields = props.fields, group = props.group;
        window.React.useLayoutEffect(function () {
            var f = fields && typeof fields === "object" ? fields : {point: "clicked", nearest: "nearest"};
            var marks = marksOf(data, f);
            (Array.isArray(graphs) ? graphs : []).forEach(function (id) {
                if (typeof id === "string") { M.set(id, marks, typeof group === "string" ? group : "point"); }
            });
        }, [data, graphs, fields, group]);
        /* `shown`: the data again, once the frame showing them is on screen (what the address
           is written from: writing it is no part of what the user waits for, and done before
           that frame it would hold the frame back) */
        var setProps = props.setProps, first = window.React.useRef(true);
        window.React.useEffect(function () {
            if (first.current) { first.current = false; if (data === undefined || data === null) { return; } }
            if (typeof setProps !== "function") { return; }
            var done = false, timer = null;
            var go = function () { if (!done) { done = true; clearTimeout(timer); setProps({shown: data}); } };
            timer = setTimeout(go, 100);  /* a hidden tab draws no frames */
            /* the frame drawing the data, then the next one begun: that the first is on screen */
            window.requestAnimationFrame(function () {
                window.requestAnimationFrame(function () { setTimeout(go, 0); });
            });
            return function () { done = true; clearTimeout(timer); };  /* newer data come first */
        }, [data]);
        return null;
    }

    window.fooling_marks = {PointStore: PointStore};

    /* a graph drawn later (or drawn again) picks up its markers */
    new MutationObserver(function () {
        for (var id in M.state) { if (plot(id)) { follow(id); } }
    }).observe(document.documentElement, {childList: true, subtree: true});
})();
