/*
 * A click on a plot's drag layer goes no further than the plot.
 *
 * A press and release on a plotly map makes two click events: the browser's own, and a
 * synthetic one that plotly.js dispatches after its mouseup. Each bubbles up through the
 * page, and every Dash html component on its way (the columns and rows around a map)
 * counts it in its n_clicks: a store update and a re-render each, which nothing reads (no
 * callback takes an n_clicks of a map's ancestor), on the main thread between the release
 * and the click's request. The click has done its work by then: plotly reads the press and
 * the release, and the pages read plotly's events, not DOM clicks.
 *
 * The listener is put on a plot at its first press (every click starts with one), so no
 * observer has to watch for plots being drawn. Clicks on anything else (the mode bar, the
 * legend, every control) bubble as ever.
 */
(function () {
    "use strict";
    if (window.foolingPlotClicks) { return; }
    window.foolingPlotClicks = true;

    function stop(ev) {
        var t = ev.target;
        if (t && t.classList && t.classList.contains("drag")) { ev.stopPropagation(); }
    }

    document.addEventListener("pointerdown", function (ev) {
        var gd = ev.target && ev.target.closest ? ev.target.closest(".js-plotly-plot") : null;
        if (gd && !gd.foolingClickStop) {
            gd.foolingClickStop = true;
            gd.addEventListener("click", stop);
        }
    }, true);
})();
