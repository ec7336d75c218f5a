/*
 * /mnist live preview: the image under the pointer, as the pointer moves.
 *
 * Identity net: the whole input-to-hidden map is affine, so the minimum-norm image of a
 * hidden point h is (h - c) @ P with P the 2 x 784 pseudoinverse, and the class
 * probabilities are softmax(h @ W + b) of the output layer. Both are shipped once with
 * the page (the mnist-hover-data store) and evaluated here: no request per move.
 * Tanh net: the inversion needs per-layer solves, so the preview asks the server
 * (/_fooling/preview), with at most one request in flight; the latest point wins.
 *
 * The preview is drawn on a canvas over the image and in #mnist-hover. Pointer events
 * drive it (mouse, pen and touch: a drag on a phone previews), converted with the axes'
 * own pixel-to-data maps, on either map. A click (a press and release that did not move)
 * pins the point: it becomes the linear map's click (its clickData), and the server answers in full.
 * The maps have plotly's own hover switched off (it would walk every trace on each move
 * and delay each click); a pan is still a drag.
 * window.foolingHover.last holds the last preview (for tests); .count counts previews.
 */
(function () {
    "use strict";
    var H = window.foolingHover = window.foolingHover || {count: 0, data: null, last: null,
                                                        inflight: false, queued: null};

    function decode(b64) {
        var bin = atob(b64), bytes = new Uint8Array(bin.length);
        for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
        return new Float64Array(bytes.buffer);
    }

    /* the store's payload -> typed arrays (called by a clientside callback) */
    H.setData = function (data) {
        H.gen = (H.gen || 0) + 1;  /* a preview asked for before this is dropped */
        H.queued = null;
        if (!data || typeof data !== "object" || data.network === undefined) { H.data = null; return; }
        var d = {network: data.network, labels: data.labels, mode: data.mode, n: data.n};
        if (data.mode === "affine") {
            d.P = decode(data.pinv);          /* 2 x n, row-major */
            d.c = data.c; d.W = data.W; d.b = data.b;
        }
        H.data = d;
    };

    /* as app.components.percent: never rounded up to 100% when it is not 1 */
    function percent(p) {
        var t = (100 * p).toFixed(2);
        return (Number(t) >= 100 && p < 1) ? ">99.99%" : t + "%";
    }

    function softmax(z) {
        var m = Math.max.apply(null, z), e = z.map(function (v) { return Math.exp(v - m); });
        var s = e.reduce(function (a, v) { return a + v; }, 0);
        return e.map(function (v) { return v / s; });
    }

    /* the identity net's preview at (x, y), computed here */
    H.affinePreview = function (x, y) {
        var d = H.data, n = d.n, img = new Float64Array(n);
        var u = x - d.c[0], v = y - d.c[1];
        for (var i = 0; i < n; i++) { img[i] = u * d.P[i] + v * d.P[n + i]; }
        var z = d.b.map(function (bk, k) { return x * d.W[0][k] + y * d.W[1][k] + bk; });
        var p = softmax(z), k = p.indexOf(Math.max.apply(null, p));
        return {network: d.network, x: x, y: y, image: img, proba: p, predicted: d.labels[k],
                confidence: p[k], source: "browser"};
    };

    var MAPS = ["mnist-map", "mnist-rbf-map"];

    function plotOf(id) { return document.querySelector("#" + id + " .js-plotly-plot"); }

    function canvas() { return document.getElementById("mnist-hover-image"); }

    /* the preview sits exactly on the pinned image's canvas */
    function place(cv) {
        var under = document.querySelector("#mnist-image .digit-canvas"), box = cv.parentElement;  /* .hover-box */
        if (!under || !box) { return; }
        var a = under.getBoundingClientRect(), b = box.getBoundingClientRect();  /* fractional pixels */
        cv.style.left = (a.left - b.left - box.clientLeft) + "px";
        cv.style.top = (a.top - b.top - box.clientTop) + "px";
        cv.style.width = a.width + "px";
        cv.style.height = a.height + "px";
    }

    function draw(r) {
        var cv = canvas();
        if (cv && r.image) {
            place(cv);
            var n = Math.round(Math.sqrt(r.image.length)), lo = 0, hi = 1, i;
            for (i = 0; i < r.image.length; i++) {
                if (r.image[i] < lo) { lo = r.image[i]; }
                if (r.image[i] > hi) { hi = r.image[i]; }
            }
            cv.width = n; cv.height = n;
            var ctx = cv.getContext("2d"), im = ctx.createImageData(n, n);
            for (i = 0; i < r.image.length; i++) {
                var g = Math.round(255 * (r.image[i] - lo) / (hi - lo));
                im.data[4 * i] = im.data[4 * i + 1] = im.data[4 * i + 2] = g;
                im.data[4 * i + 3] = 255;
            }
            ctx.putImageData(im, 0, 0);
            cv.classList.add("active");
        }
        var line = document.getElementById("mnist-hover");
        if (line) {
            var where = " at (" + r.x.toPrecision(4) + ", " + r.y.toPrecision(4) + ")";
            var how = r.source === "server" ? " · preview from the server" : "";
            line.textContent = r.message ? r.message :
                r.predicted + " (" + percent(r.confidence) + ")" + where + how;
            line.classList.add("active");
        }
        H.last = r;
        H.count += 1;
    }

    function hide() {
        var cv = canvas(), line = document.getElementById("mnist-hover");
        H.gen = (H.gen || 0) + 1;  /* an answer still on its way is not drawn after the pointer left */
        H.queued = null;
        if (cv) { cv.classList.remove("active"); }
        if (line) { line.classList.remove("active"); line.textContent = "Hover over the map to preview."; }
    }

    /* the tanh net's preview: one request at a time, the newest point waits, older ones are dropped */
    function ask(x, y) {
        if (H.inflight) { H.queued = [x, y]; return; }
        H.inflight = true;
        var gen = H.gen, net = H.data.network;
        var url = "/_fooling/preview?net=" + encodeURIComponent(net) + "&x=" + x + "&y=" + y;
        fetch(url, {credentials: "same-origin"}).then(function (resp) { return resp.json(); })
            .then(function (r) {
                if (gen !== H.gen) { return; }  /* the pointer left, or the network changed */
                if (r && r.image) { r.image = Float64Array.from(r.image); }
                if (r && (r.image || r.message)) {
                    draw(Object.assign({network: net, x: x, y: y, source: "server"}, r));
                }
            })
            .catch(function () { /* a lost preview is not an error; the next move asks again */ })
            .then(function () {
                H.inflight = false;
                if (H.queued) { var q = H.queued; H.queued = null; ask(q[0], q[1]); }
            });
    }

    /* the data point under a pointer event, or null outside the plot area */
    function dataPoint(gd, ev) {
        var fl = gd._fullLayout;
        if (!fl || !fl.xaxis || !fl.yaxis) { return null; }
        var rect = gd.getBoundingClientRect();
        var px = ev.clientX - rect.left - fl.xaxis._offset, py = ev.clientY - rect.top - fl.yaxis._offset;
        if (px < 0 || py < 0 || px > fl.xaxis._length || py > fl.yaxis._length) { return null; }
        var x = fl.xaxis.p2l(px), y = fl.yaxis.p2l(py);
        return isFinite(x) && isFinite(y) ? [x, y] : null;
    }

    function onMove(ev) {
        if (!H.data) { return; }
        var at = dataPoint(ev.currentTarget, ev);
        if (!at) { hide(); return; }
        if (H.data.mode === "affine") { draw(H.affinePreview(at[0], at[1])); } else { ask(at[0], at[1]); }
    }

    var press = null;

    function onDown(ev) {
        press = {x: ev.clientX, y: ev.clientY, id: ev.pointerId};
        var gd = ev.currentTarget;
        if (ev.pointerType === "touch" && gd._fullLayout && gd._fullLayout.dragmode !== false) {
            /* on a touch screen a drag previews instead of panning (the zoom buttons stay) */
            window.Plotly.relayout(gd, {dragmode: false});
        }
    }

    function onUp(ev) {
        var p = press;
        press = null;
        if (!p || p.id !== ev.pointerId || Math.hypot(ev.clientX - p.x, ev.clientY - p.y) > 5) { return; }
        var at = dataPoint(ev.currentTarget, ev), linear = plotOf("mnist-map");
        if (at && linear && linear.emit) {
            /* the linear map's own click event: dcc.Graph turns it into clickData at once (a
               dash_clientside.set_props of clickData costs a re-index of the whole page first) */
            linear.emit("plotly_click", {points: [{x: at[0], y: at[1], curveNumber: 0, pointNumber: 0,
                                                   data: linear.data[0]}], event: ev});
        }
    }

    function attach() {
        MAPS.forEach(function (id) {
            var gd = plotOf(id);
            if (!gd || gd.foolingPointer) { return; }
            gd.foolingPointer = true;
            /* a finger's drag previews: without this the browser takes it for a scroll and cancels
               the pointer after a few pixels (plotly's drag, switched off on a touch, held it too) */
            gd.style.touchAction = "none";
            gd.addEventListener("pointermove", onMove, {passive: true});
            gd.addEventListener("pointerleave", hide);
            gd.addEventListener("pointerdown", onDown, true);
            gd.addEventListener("pointerup", onUp, true);
        });
    }

    var pending = false;
    new MutationObserver(function () {
        if (pending) { return; }
        pending = true;
        window.requestAnimationFrame(function () { pending = false; attach(); });
    }).observe(document.documentElement, {childList: true, subtree: true});
})();
