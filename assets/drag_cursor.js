/*
 * plotly.js, on every press on a plot, sets the page's cursor on the root element
 * (document.documentElement.style.cursor) for the length of a drag, and puts it back on the
 * release. Both writes change an inherited property of the root, and the browser then
 * recomputes the style of every element of the page: on /mnist (about 3,900 elements, most of
 * them the maps' SVG) that is 25-45 ms each, so about 70 ms of every click went to a cursor.
 *
 * The root's inline cursor is kept empty here (a write to it is dropped), so a press and a
 * release restyle nothing. The plot's own drag layer still shows its cursor; only a pan that
 * leaves the plot shows the page's cursor instead of plotly's.
 */
(function () {
    "use strict";
    var style = document.documentElement && document.documentElement.style;
    if (!style || window.foolingRootCursorKept) { return; }
    try {
        Object.defineProperty(style, "cursor", {
            configurable: true,
            get: function () { return ""; },
            set: function () { /* dropped: see above */ }
        });
    } catch (e) { /* a browser that refuses: plotly's cursor as before */ }
    window.foolingRootCursorKept = true;
})();
