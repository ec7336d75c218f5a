/*
 * fooling_digit.Digit: a small grey image (a 28x28 digit) drawn on a canvas (app/images.py).
 *
 * Its `digit` prop is {title, note, pixels, zmin, zmax, size}: pixels a float32 typed-array
 * spec ({dtype: "f4", bdata: base64, shape}), rows top-down, drawn black at zmin and white
 * at zmax (clipped), or null for an empty image. The drawing happens in the same commit
 * that changes the prop, so the picture reaches the screen in the frame its caption does:
 * redrawing a plotly heatmap for each click cost a figure rebuild and often a frame more.
 *
 * The canvas holds what it shows: canvas.foolingDigit = {pixels: Float32Array, zmin, zmax},
 * and each drawing counts itself in the canvas's data-drawn attribute (for tests and the
 * benchmark). Hovering a pixel shows its value under the image.
 */
(function () {
    "use strict";
    var React = window.React;

    function decode(spec) {
        if (!spec || typeof spec !== "object" || spec.dtype !== "f4" || typeof spec.bdata !== "string") {
            return null;
        }
        try {
            var bin = atob(spec.bdata), n = bin.length;
            if (n % 4 !== 0) { return null; }
            var bytes = new Uint8Array(n);
            for (var i = 0; i < n; i++) { bytes[i] = bin.charCodeAt(i); }
            return new Float32Array(bytes.buffer);
        } catch (e) {
            return null;
        }
    }

    function finite(v, fallback) { return typeof v === "number" && isFinite(v) ? v : fallback; }

    /* the prop, checked: what the canvas can draw (never throws) */
    function parse(d) {
        d = d && typeof d === "object" ? d : {};
        var size = Math.max(1, Math.min(64, Math.round(finite(d.size, 28))));
        var px = decode(d.pixels);
        if (px && px.length !== size * size) { px = null; }
        var lo = finite(d.zmin, 0), hi = finite(d.zmax, 1);
        if (!(hi > lo)) { hi = lo + 1; }
        return {size: size, pixels: px, zmin: lo, zmax: hi,
                title: typeof d.title === "string" ? d.title : "", note: typeof d.note === "string" ? d.note : ""};
    }

    function draw(cv, g) {
        if (!cv) { return; }
        var n = g.size;
        if (cv.width !== n) { cv.width = n; }
        if (cv.height !== n) { cv.height = n; }
        var ctx = cv.getContext("2d");
        if (!g.pixels) {
            ctx.clearRect(0, 0, n, n);
        } else {
            var im = ctx.createImageData(n, n), scale = 255 / (g.zmax - g.zmin);
            for (var i = 0; i < n * n; i++) {
                var v = g.pixels[i], grey = v !== v ? 255 : Math.round((v - g.zmin) * scale);
                grey = grey < 0 ? 0 : grey > 255 ? 255 : grey;
                im.data[4 * i] = im.data[4 * i + 1] = im.data[4 * i + 2] = grey;
                im.data[4 * i + 3] = 255;
            }
            ctx.putImageData(im, 0, 0);
        }
        cv.foolingDigit = {pixels: g.pixels, zmin: g.zmin, zmax: g.zmax};
        cv.classList.toggle("empty", !g.pixels);
        cv.setAttribute("data-drawn", String(Number(cv.getAttribute("data-drawn") || 0) + 1));
    }

    function Digit(props) {
        var g = React.useMemo(function () { return parse(props.digit); }, [props.digit]);
        var canvas = React.useRef(null), readout = React.useRef(null);
        React.useLayoutEffect(function () { draw(canvas.current, g); }, [g]);

        function show(ev) {
            var cv = canvas.current, out = readout.current;
            if (!cv || !out) { return; }
            if (!g.pixels) { out.textContent = ""; return; }
            var r = cv.getBoundingClientRect();
            var col = Math.floor((ev.clientX - r.left) / r.width * g.size);
            var row = Math.floor((ev.clientY - r.top) / r.height * g.size);
            if (col < 0 || row < 0 || col >= g.size || row >= g.size) { out.textContent = ""; return; }
            out.textContent = "pixel (" + row + ", " + col + "): " + g.pixels[row * g.size + col].toFixed(3);
        }

        function hide() { if (readout.current) { readout.current.textContent = ""; } }

        var h = React.createElement;
        return h("div", {id: props.id, className: "digit" + (props.className ? " " + props.className : ""),
                         style: props.style},
                 h("div", {className: "digit-title"}, g.title),
                 g.note ? h("div", {className: "digit-note"}, g.note) : null,
                 h("canvas", {ref: canvas, className: "digit-canvas", role: "img",
                              "aria-label": g.title || "image", onPointerMove: show, onPointerLeave: hide}),
                 h("div", {ref: readout, className: "digit-readout", "aria-hidden": "true"}));
    }

    window.fooling_digit = {Digit: Digit};
})();
