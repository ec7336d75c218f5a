"""Element ids: a public contract for tests and embedding pages. Every id is defined here, once.

Ids are kebab-case ``<page or thing>-<purpose>``; repeated widgets use dict ids whose
``type`` is defined here (``{"type": IRIS_PROBE, "index": i}``).
"""

# layout
URL = "url"
PAGE = "page-content"
NAVBAR = "navbar"
NAVBAR_TOGGLER = "navbar-toggler"
NAVBAR_COLLAPSE = "navbar-collapse"
QUERY = "url-query"  # dcc.Store: the URL's query, parsed and bounded in the browser (app.links)
URL_WRITTEN = "url-written"  # dcc.Store: the query a page wrote itself ({"search": "?..."})
COPY_LINK = "copy-link"  # dcc.Clipboard: copies the address of the current view
ERROR = "app-error"
"""The error banner a callback that raised shows (never expected: callbacks validate their input)."""

# / overview
OVERVIEW_TABLE = "overview-table"

# /iris
IRIS_MAP = "iris-map"
IRIS_RESULT = "iris-result"
IRIS_OVERLAYS = "iris-overlays"
IRIS_VIEW = "iris-view"
IRIS_PROBE = "iris-probe"  # dict id {"type": IRIS_PROBE, "index": i}, one button per probe
IRIS_ACCURACY = "iris-accuracy"
IRIS_POINT = "iris-point"  # dcc.Store: {"point": [x, y]} of the inspected point

# /svm
SVM_LINEAR_MAP = "svm-linear-map"
SVM_RBF_MAP = "svm-rbf-map"
SVM_RESULT = "svm-result"
SVM_POINT = "svm-point"  # dcc.Store: {"point": [x, y]} of the inspected point

# /mnist
MNIST_NETWORK = "mnist-network"
MNIST_MAP = "mnist-map"
MNIST_RBF_MAP = "mnist-rbf-map"
MNIST_IMAGE = "mnist-image"
MNIST_RESULT = "mnist-result"
MNIST_VALID = "mnist-valid"
MNIST_LOSS = "mnist-loss"
MNIST_SAMPLES = "mnist-samples"
MNIST_HEAD = "mnist-head"
MNIST_NULL = "mnist-null"
MNIST_NULL_RESULT = "mnist-null-result"
MNIST_DENSITY = "mnist-density"
MNIST_PRESET = "mnist-preset"  # dict id {"type": MNIST_PRESET, "index": k}: the far point of class k
MNIST_HOVER = "mnist-hover"  # the live preview's line: "<digit> (<confidence>%) at (x, y)"
MNIST_HOVER_IMAGE = "mnist-hover-image"  # canvas: the previewed image, over the pinned one
MNIST_HOVER_DATA = "mnist-hover-data"  # dcc.Store: per network, what the browser previews with
MNIST_DRAW = "mnist-draw"  # canvas: the drawing pad (assets/mnist_draw.js)
MNIST_DRAW_CLEAR = "mnist-draw-clear"
MNIST_DRAW_DATA = "mnist-draw-data"  # dcc.Store: {"png": data URL, "strokes": n} when a stroke ends
MNIST_UPLOAD = "mnist-upload"
MNIST_UPLOAD_REJECTED = "mnist-upload-rejected"  # dcc.Store: a file refused in the browser (too large)
MNIST_UPLOAD_LIMIT = "mnist-upload-limit"  # carries the largest file accepted (data-max attribute)
MNIST_OWN = "mnist-own"  # dcc.Store: {"code": 784 grey levels as URL-safe base64, "source"}
MNIST_OWN_IMAGE = "mnist-own-image"
MNIST_OWN_RESULT = "mnist-own-result"
MNIST_OWN_MARKS = "mnist-own-marks"  # dcc.Store: {"own": [x, y], "walked": [x, y] or None}
MNIST_WALK = "mnist-walk"
MNIST_EXPORT_PNG = "mnist-export-png"
MNIST_EXPORT_PNG_LARGE = "mnist-export-png-large"
MNIST_EXPORT_JSON = "mnist-export-json"
MNIST_DOWNLOAD = "mnist-download"
MNIST_POINT = "mnist-point"  # dcc.Store: the pinned {"network", "point": [x, y], "nearest": [x, y] or None,
#                               "valid", "null"} (the checkbox and the slider value its image is drawn at)
MNIST_NULL_ASK = "mnist-null-ask"  # dcc.Store: the slider's value, when the pinned image is not drawn at it

# /neurons
NEURONS_LAYER = "neurons-layer"
NEURONS_UNIT = "neurons-unit"
NEURONS_EFFECTIVE = "neurons-effective"
NEURONS_AVERAGE = "neurons-average"
NEURONS_NOTE = "neurons-note"
NEURONS_SPARSITY = "neurons-sparsity"
NEURONS_SPARSITY_NOTE = "neurons-sparsity-note"
ATTACK_SOURCE = "attack-source"
ATTACK_TARGET = "attack-target"
ATTACK_STRENGTH = "attack-strength"
ATTACK_CLIP = "attack-clip"
ATTACK_IMAGE = "attack-image"
ATTACK_CURVE = "attack-curve"
ATTACK_RESULT = "attack-result"
NEURONS_LINK_NOTE = "neurons-link-note"  # what a link asked for that could not be shown

# /compare
COMPARE_TABLE = "compare-table"
COMPARE_TABLE_BOX = "compare-table-box"
COMPARE_TEXT = "compare-text"
COMPARE_CURVES = "compare-curves"
COMPARE_CURVES_NOTE = "compare-curves-note"
COMPARE_DENSITY = "compare-density"
COMPARE_DENSITY_NOTE = "compare-density-note"
COMPARE_MODEL = "compare-model"
COMPARE_VIEW = "compare-view"
COMPARE_LOAD = "compare-load"
COMPARE_LINK_NOTE = "compare-link-note"

# /ood
OOD_METRIC = "ood-metric"  # radio: which OpenOOD metric the table shows
OOD_METRIC_MESSAGE = "ood-metric-message"
OOD_TABLE_BOX = "ood-table-box"  # holds OOD_TABLE and its legend
OOD_TABLE = "ood-table"  # networks x scores x sets, near and far columns apart
OOD_MMC_TABLE = "ood-mmc-table"  # mean max probability per network and set
OOD_HIGHLIGHTS = "ood-highlights"
OOD_NETWORK = "ood-network"  # radio: whose answers the example tiles carry
OOD_NETWORK_MESSAGE = "ood-network-message"
OOD_EXAMPLES = "ood-examples"
OOD_RAY_VALUE = "ood-ray-value"  # radio: mean top probability or share of confident digits
OOD_RAY_MESSAGE = "ood-ray-message"
OOD_RAYS = "ood-rays"
OOD_RAYS_TABLE = "ood-rays-table"  # per model: the ray's first and last values
OOD_RAYS_NOTE = "ood-rays-note"
OOD_FGSM_TABLE = "ood-fgsm-table"
OOD_FGSM_NOTE = "ood-fgsm-note"

# /lab
LAB_DIGITS = "lab-digits"  # checklist: the digits the network learns
LAB_HIDDEN = "lab-hidden"  # text: hidden layers before the 2-unit bottleneck, e.g. "50,20"
LAB_ACTIVATION = "lab-activation"
LAB_SOLVER = "lab-solver"
LAB_LR = "lab-lr"
LAB_ALPHA = "lab-alpha"
LAB_EPOCHS = "lab-epochs"
LAB_SEED = "lab-seed"
LAB_TRAIN = "lab-train"
LAB_CANCEL = "lab-cancel"
LAB_PROGRESS = "lab-progress"  # the line beside the bar: epoch and loss, then what became of the job
LAB_PROGRESS_BAR = "lab-progress-bar"
LAB_MESSAGE = "lab-message"  # why a spec was refused or not started (busy, one job per session)
LAB_RESULT = "lab-result"  # train and held-out accuracy of the network shown
LAB_MAP = "lab-map"  # the network's own (linear) head over its hidden plane
LAB_RBF_MAP = "lab-rbf-map"  # an RBF head on the same hidden plane
LAB_KEY = "lab-key"  # the maps' key (one coloured dot per digit)
LAB_PRESETS = "lab-presets"  # holds the LAB_PRESET buttons, one per digit
LAB_PRESET = "lab-preset"  # dict id {"type": LAB_PRESET, "index": d}: the far point of digit d (0-9)
LAB_VALID = "lab-valid"  # checkbox: keep pixels in [0, 1]
LAB_IMAGE = "lab-image"
LAB_INSPECT = "lab-inspect"  # what the clicked point inverts to: prediction, residual, both heads
LAB_LOSS = "lab-loss"
LAB_RATES = "lab-rates"  # fooling rates at R = 1, 2, 5, 10 and the density-flag share, both heads
LAB_SESSION = "lab-session"  # dcc.Store (session storage): this browser tab's session token
LAB_TICKET = "lab-ticket"  # dcc.Store: {"nonce", "key", "epochs"} of the job to start
LAB_OUTCOME = "lab-outcome"  # dcc.Store: {"key", "status", ...} of the network to show
LAB_RUNNING = "lab-running"  # dcc.Store: true while the training job runs
LAB_WRITE = "lab-write"  # dcc.Store: {"search": "?..."} the page writes into the URL after Train
LAB_POINT = "lab-point"  # dcc.Store: {"point": [x, y], "nearest": [x, y] or None} pinned
